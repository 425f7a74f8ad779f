/**
 * What decides the result a subscription gets from an event: its operation
 * document, its variables and its caller. Subscriptions with the same key
 * compute the same result from the same event, so the router (each event's
 * rest of the plan) and the subgraph server (each event's execution)
 * resolve such an event once for all of them, and never across callers.
 *
 * Documents are told apart by object identity, numbered as first seen (a
 * WeakMap, so a dropped document leaves nothing behind): both sides parse
 * an operation text once and reuse the document, so identical texts are one
 * object; two objects for one text only share less, never wrongly.
 */
import { identityKey, type Identity } from './identity.js';

/** Keys of subscriptions' selections (see the module comment); one instance per sharing cache. */
export class SelectionKeys {
  private readonly ids = new WeakMap<object, number>();
  private next = 1;

  /** The key of a subscription of `document` with `variables`, for `identity`. */
  of(document: object, variables: unknown, identity: Pick<Identity, 'sub' | 'role' | 'storeId'>): string {
    let id = this.ids.get(document);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(document, id);
    }
    return `${id}\n${identityKey(identity)}\n${JSON.stringify(variables ?? {})}`;
  }
}
