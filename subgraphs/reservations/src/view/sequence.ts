/**
 * The customer feed's sequence: one increasing number per visible change of
 * any of a customer's reservations, so a client following all of them
 * resumes with `sinceSequence` (see subscription.ts).
 *
 * It lives in Redis (`<prefix>:view:seq:<customerId>`, one `INCR` per
 * change), not in a counter document, so a change of the customer view costs
 * one database write, not two. Edge cases:
 * - A key that does not exist (a new customer, or a Redis that lost its
 *   data) is first set to the highest sequence the customer's views already
 *   carry (`floor`, one indexed read), then incremented, so numbers never go
 *   back below what clients may have seen. A Lua script makes "increment
 *   only if it exists" one step; two first uses at once both set the floor
 *   with `SET NX` and then increment, so they still get distinct numbers.
 * - Redis appends every write to its append-only file and syncs it once a
 *   second: a crash can forget the last second of increments, and a number
 *   may then be handed out twice. Per reservation the versions stay exact
 *   (they are in the database); a client whose resume point fell in that
 *   second may miss a change of another reservation in the all-reservations
 *   feed until its next reload (the web client refetches its list on every
 *   connect).
 * - Numbers may be skipped (a change whose write lost a race takes a new one).
 */
import { Redis } from 'ioredis';

/** The highest sequence already stored for a customer (0 when none). */
export type SequenceFloor = (customerId: string) => Promise<number>;

const INCR_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) end return false`;

type SequenceRedis = Redis & { incrIfExists(key: string): Promise<number | null> };

export class FeedSequence {
  private readonly redis: SequenceRedis;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    private readonly floor: SequenceFloor,
  ) {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    redis.defineCommand('incrIfExists', { numberOfKeys: 1, lua: INCR_IF_EXISTS });
    // Without a listener an ioredis 'error' (Redis restarting) would crash the process.
    redis.on('error', () => {});
    this.redis = redis as SequenceRedis;
  }

  private key(customerId: string): string {
    return `${this.prefix}:view:seq:${customerId}`;
  }

  /** The next number of the customer's feed. */
  async next(customerId: string): Promise<number> {
    const key = this.key(customerId);
    const n = await this.redis.incrIfExists(key);
    if (n !== null) return n;
    await this.redis.set(key, String(await this.floor(customerId)), 'NX');
    return this.redis.incr(key);
  }

  /** The customer's last number handed out (where a subscription that gives none starts). */
  async current(customerId: string): Promise<number> {
    const key = this.key(customerId);
    const value = await this.redis.get(key);
    if (value !== null) return Number(value);
    const floor = await this.floor(customerId);
    await this.redis.set(key, String(floor), 'NX');
    return Number((await this.redis.get(key)) ?? floor);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
