/**
 * One execution of a subscription event for every subscriber that would
 * compute the same result: many open screens follow the same reservation as
 * the same caller (a customer's tabs and devices), and each of their
 * upstream subscriptions receives the same event. Resolving the rest of the
 * plan (entity fetches to other subgraphs, result shaping) once per distinct
 * selection, instead of once per subscriber, keeps an event's cost flat in
 * the number of screens.
 *
 * Rules (each one is why sharing a result is safe):
 * - The key is the prepared operation (the same document, so the same plan
 *   and selection), its variables, the subscriber's identity (sub, role,
 *   storeId: everything the router signs for the subgraphs) and the event's
 *   payload as the subgraph pushed it. Authorization stays per subscriber
 *   and per event: the subgraph decides per upstream subscription what each
 *   subscriber receives, and the entity fetches of a shared execution carry
 *   that same identity.
 * - Short-lived: an execution is shared while it runs and for `ttlMs` after
 *   (default 1 s, for subscribers whose copy of the event arrives a little
 *   later), at most `maxEntries` results.
 * - A failed execution is shared with those waiting for it, never kept.
 * - Subscribers on one shared upstream stream receive the very same event
 *   object, so they find the execution by that object first; equal events
 *   from separate upstream streams are matched by their content.
 */
import type { DocumentNode, ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import { SelectionKeys, type Identity } from '@rental/auth';
import { sharedEventExecutions } from '../metrics.js';

export interface SharedExecutionOptions {
  ttlMs?: number;
  maxEntries?: number;
}

export class SharedEventExecution {
  private readonly results: LRUCache<string, Promise<ExecutionResult>>;
  /**
   * The same, by event object: subscribers on one shared upstream stream
   * (shared-upstream.ts) receive the very same object, so they find the
   * execution without serialising the event or building a key.
   */
  private readonly byEvent = new WeakMap<object, Map<string, { running: Promise<ExecutionResult>; until: number }>>();
  private readonly keys = new SelectionKeys();
  private readonly ttlMs: number;

  constructor(options: SharedExecutionOptions = {}) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.results = new LRUCache({ max: options.maxEntries ?? 10_000, ttl: this.ttlMs });
  }

  /**
   * One subscription's runner: the result of `execute` for an event, or the
   * one an identical subscriber's execution gave. The subscription's part of
   * the key is computed once, here; per event only the event is added.
   */
  forSubscription(
    document: DocumentNode,
    variables: Record<string, unknown>,
    identity: Identity,
  ): (event: object, execute: () => Promise<ExecutionResult>) => Promise<ExecutionResult> {
    const shape = `${this.keys.of(document, variables, identity)}\n`;
    return (event, execute) => this.run(event, shape, execute);
  }

  private run(event: object, shape: string, execute: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const now = performance.now();
    let forEvent = this.byEvent.get(event);
    const same = forEvent?.get(shape);
    if (same && same.until > now) {
      sharedEventExecutions.inc({ outcome: 'shared' });
      return same.running;
    }
    const key = shape + JSON.stringify(event);
    let running = this.results.get(key);
    if (running) {
      sharedEventExecutions.inc({ outcome: 'shared' });
    } else {
      sharedEventExecutions.inc({ outcome: 'executed' });
      const started = execute();
      running = started;
      this.results.set(key, started);
      started.catch(() => {
        if (this.results.peek(key) === started) this.results.delete(key);
        if (forEvent?.get(shape)?.running === started) forEvent.delete(shape);
      });
    }
    if (!forEvent) {
      forEvent = new Map();
      this.byEvent.set(event, forEvent);
    }
    forEvent.set(shape, { running, until: now + this.ttlMs });
    return running;
  }
}
