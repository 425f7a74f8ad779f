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
 *   object; its serialisation is kept with it and made once.
 */
import type { DocumentNode, ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import { SelectionKeys, type Identity } from '@rental/auth';
import { sharedEventExecutions } from '../metrics.js';

export interface SharedExecutionOptions {
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * An event's part of the key, serialised once per event object: subscribers
 * on one shared upstream stream (shared-upstream.ts) receive the very same
 * object, so the event is not serialised again for each of them.
 */
const eventKeys = new WeakMap<object, string>();

function eventKey(event: object): string {
  let key = eventKeys.get(event);
  if (key === undefined) {
    key = JSON.stringify(event);
    eventKeys.set(event, key);
  }
  return key;
}

export class SharedEventExecution {
  private readonly results: LRUCache<string, Promise<ExecutionResult>>;
  private readonly keys = new SelectionKeys();

  constructor(options: SharedExecutionOptions = {}) {
    this.results = new LRUCache({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs ?? 1_000 });
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
    return (event, execute) => this.run(shape + eventKey(event), execute);
  }

  private run(key: string, execute: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const shared = this.results.get(key);
    if (shared) {
      sharedEventExecutions.inc({ outcome: 'shared' });
      return shared;
    }
    sharedEventExecutions.inc({ outcome: 'executed' });
    const running = execute();
    this.results.set(key, running);
    running.catch(() => {
      if (this.results.peek(key) === running) this.results.delete(key);
    });
    return running;
  }
}
