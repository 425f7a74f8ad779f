/**
 * A short per-order lock in Redis, held around every write to a store order
 * document (state changes and the outbox relay's clean-up).
 *
 * Why: FerretDB 1.24 (SQLite backend, our local server) applies an update as
 * read, modify, write the whole document, without isolation. Measured here:
 * five concurrent `updateOne({ _id, status: 'PENDING' }, { $set: { status:
 * 'READY' } })` all report `modifiedCount: 1`, and of concurrent updates to
 * one document only the last one's changes survive (a `$push`, an
 * `outbox.<id>` key or an `$inc` of another writer is lost). A conditional
 * single-document update is therefore NOT an atomic compare-and-set there.
 * Inserts are: a duplicate `_id` is refused however concurrent.
 *
 * So the stores subgraph serializes writers per order across processes (API,
 * worker, replicas): `SET key token NX PX ttl`, released by a
 * compare-and-delete script. The conditional updates stay as they are, so the
 * code is also correct on a real MongoDB, where the lock is merely redundant.
 * The TTL bounds how long a crashed holder blocks others; a holder stalled
 * past the TTL could overlap the next one (there is no fencing token), which
 * is why the TTL is far above any write's duration.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DomainError } from '@rental/errors';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface OrderLockOptions {
  /** Key prefix (the queue prefix, so test runs are isolated). */
  prefix: string;
  /** Lock lifetime, ms. Default 15 000. */
  ttlMs?: number;
  /** How long to wait for a busy lock before answering TRY_LATER, ms. Default 5 000. */
  waitMs?: number;
}

export class OrderLocks {
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: OrderLockOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.waitMs = options.waitMs ?? 5_000;
  }

  /** Runs `fn` holding the lock of `orderId`; TRY_LATER when it stays busy for `waitMs`. */
  async run<T>(orderId: string, fn: () => Promise<T>): Promise<T> {
    const key = `${this.options.prefix}:stores:order-lock:${orderId}`;
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 2;
    while ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) {
        throw new DomainError('TRY_LATER', `store order ${orderId} is busy; try again`, { retryAfterSeconds: 1 });
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 50);
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}
