/**
 * A short per-rental lock in Redis, held around every write to a rental
 * document (state changes and the outbox relay's clean-up), keyed by the
 * reservation id (one rental per reservation).
 *
 * Why: FerretDB 1.24 (SQLite backend, our local server) applies an update as
 * read, modify, write the whole document, without isolation between
 * connections (measured by the items and stores subgraphs: concurrent
 * conditional updates all "match", and of concurrent updates to one document
 * only the last one's changes survive). A conditional single-document update
 * is therefore not an atomic compare-and-set there, and the hand-over versus
 * refund arbitration, which runs in two processes (API: `startRental`,
 * worker: `ReservationCancelled`), needs a lock that spans processes.
 * Inserts are exact (a duplicate unique key is refused however concurrent),
 * so the charge's insert-first lock needs no Redis lock.
 *
 * `SET key token NX PX ttl`, released by a compare-and-delete script. The
 * conditional updates stay as they are, so the code is also correct on a real
 * MongoDB, where the lock is merely redundant. The TTL bounds how long a
 * crashed holder blocks others; it is far above any single write's duration
 * (the lock is never held across a payment provider call).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DomainError } from '@rental/errors';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface RentalLockOptions {
  /** Key prefix (the queue prefix, so deployments and test runs are isolated). */
  prefix: string;
  /** Lock lifetime, ms. Default 15 000. */
  ttlMs?: number;
  /** How long to wait for a busy lock before answering TRY_LATER, ms. Default 5 000. */
  waitMs?: number;
}

export class RentalLocks {
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RentalLockOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.waitMs = options.waitMs ?? 5_000;
  }

  /** Runs `fn` holding the lock of `reservationId`'s rental; TRY_LATER when it stays busy for `waitMs`. */
  async run<T>(reservationId: string, fn: () => Promise<T>): Promise<T> {
    const key = `${this.options.prefix}:rentals:lock:${reservationId}`;
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 2;
    while ((await this.redis.set(key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) {
        throw new DomainError('TRY_LATER', `rental of reservation ${reservationId} is busy; try again`, { retryAfterSeconds: 1 });
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
