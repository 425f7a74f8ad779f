/**
 * The change log of a customer view, kept inside the view itself: each
 * visible version stores only what changed since the version before (a
 * diff of the facts), so a version's full snapshot is rebuilt by applying
 * the diffs from version 1 on. Version 1's diff is every fact (it starts
 * from nothing); later ones are a status, a history entry, a store order or
 * rental status: a few hundred bytes.
 *
 * Why inside the view: writing a change is then ONE conditional update of
 * the view document (the view and its log can never disagree, and no crash
 * can leave one without the other), and replaying a reservation's changes
 * is one read by `_id`.
 */
import type { ViewFacts } from './customer-view.js';
import { emptyFacts } from './customer-view.js';

/** The facts a version changed, by field (whole values: a field that changed is stored entire). */
export type FactsDiff = Partial<Omit<ViewFacts, 'reservationId'>>;

/** One visible version, as logged. */
export interface ViewChange {
  /** Position in the customer's feed. */
  sequence: number;
  /** When the version was projected, ISO 8601. */
  updatedAt: string;
  diff: FactsDiff;
}

const FIELDS = Object.keys(emptyFacts('')).filter((k) => k !== 'reservationId') as Array<keyof FactsDiff>;

/** The fields of `after` that differ from `before` (every set field when `before` is null). */
export function diffFacts(before: ViewFacts | null, after: ViewFacts): FactsDiff {
  const diff: Record<string, unknown> = {};
  for (const field of FIELDS) {
    if (before === null || JSON.stringify(before[field]) !== JSON.stringify(after[field])) diff[field] = after[field];
  }
  return diff as FactsDiff;
}

/** `base` with the diff's fields replaced (a new object; `base` is not changed). */
export function applyDiff(base: ViewFacts, diff: FactsDiff): ViewFacts {
  return { ...base, ...structuredClone(diff) };
}

/** The key of a version in the view's `changes` map (a field name, not an array index). */
export function changeKey(version: number): string {
  return `v${version}`;
}

/**
 * The snapshots of versions `after + 1 … upTo`, rebuilt from the log: facts
 * of each version with its version, sequence and time. Stops at the first
 * version whose entry is missing (a log never has holes: each version is
 * written with its entry in one update).
 */
export function replay<S>(
  reservationId: string,
  changes: Readonly<Record<string, ViewChange>>,
  after: number,
  upTo: number,
  snapshot: (facts: ViewFacts, version: number, change: ViewChange) => S,
): S[] {
  const out: S[] = [];
  let facts = emptyFacts(reservationId);
  for (let v = 1; v <= upTo; v += 1) {
    const change = changes[changeKey(v)];
    if (!change) break;
    facts = applyDiff(facts, change.diff);
    if (v > after) out.push(snapshot(facts, v, change));
  }
  return out;
}
