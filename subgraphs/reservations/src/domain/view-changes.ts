/**
 * The change log of a customer view, kept inside the view itself. The view
 * holds its current facts (the last version); each visible version's entry
 * holds what that version changed, as the values those fields had just
 * before it (an "undo"), so any earlier version is rebuilt by walking back
 * from the current facts. Version 1 has nothing before it (`undo: null`).
 * An entry is a status, a history entry, a store order or rental status: a
 * few hundred bytes; the facts are stored once.
 *
 * Why inside the view: writing a change is then ONE conditional update of
 * the view document (the view and its log can never disagree, and no crash
 * can leave one without the other), and replaying a reservation's changes
 * is one read by `_id`.
 */
import type { ViewFacts } from './customer-view.js';

/** Fields of the facts, each with a whole value (a field that changed is stored entire). */
export type FactsDiff = Partial<Omit<ViewFacts, 'reservationId'>>;

/** One visible version, as logged. */
export interface ViewChange {
  /** Position in the customer's feed. */
  sequence: number;
  /** When the version was projected, ISO 8601. */
  updatedAt: string;
  /** The changed fields as they were at the version before; null for version 1. */
  undo: FactsDiff | null;
}

/**
 * The undo of going from `before` to `after`: every field that differs, with
 * its value in `before`. `before` null (nothing visible yet) → null.
 */
export function undoOf(before: ViewFacts | null, after: ViewFacts): FactsDiff | null {
  if (before === null) return null;
  const undo: Record<string, unknown> = {};
  for (const field of Object.keys(after) as Array<keyof ViewFacts>) {
    if (field === 'reservationId') continue;
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) undo[field] = structuredClone(before[field]);
  }
  return undo;
}

/** The key of a version in the view's `changes` map (a field name, not an array index). */
export function changeKey(version: number): string {
  return `v${version}`;
}

/**
 * The snapshots of versions `after + 1 … upTo`, in version order, rebuilt
 * from the current facts (of version `current`) by undoing later versions.
 * Versions whose entry is missing end the walk (a log never has holes: each
 * version is written with its entry in one update).
 */
export function replay<S>(
  facts: ViewFacts,
  current: number,
  changes: Readonly<Record<string, ViewChange>>,
  after: number,
  upTo: number,
  snapshot: (facts: ViewFacts, version: number, change: ViewChange) => S,
): S[] {
  const out: S[] = [];
  let at = facts;
  for (let v = current; v > after; v -= 1) {
    const change = changes[changeKey(v)];
    if (!change) break;
    if (v <= upTo) out.push(snapshot(at, v, change));
    if (change.undo === null) break;
    at = { ...at, ...structuredClone(change.undo) };
  }
  return out.reverse();
}
