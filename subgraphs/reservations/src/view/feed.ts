/**
 * Live delivery of customer-view changes over Redis pub/sub.
 *
 * The worker's projector publishes every change to two channels,
 * `<prefix>:view:reservation:<reservationId>` and
 * `<prefix>:view:customer:<customerId>` (prefix = QUEUE_PREFIX, so test runs
 * and environments sharing a Redis do not hear each other). The message is
 * the snapshot as JSON.
 *
 * Pub/sub is fire-and-forget: a message published while a subscriber's
 * connection is down is lost. The change log is the source of truth; the
 * subscription side fills every gap from it (see `subscription.ts`), and
 * {@link ViewFeed} tells its listeners when its connection came back so they
 * catch up.
 *
 * The feed also remembers, per channel, the messages it heard in the last
 * {@link RECENT_MS} ({@link ViewFeed.heardSince}): a subscription that starts
 * can then use a replay read another one began a moment before it listened,
 * and take what that read may have missed from here (change-log-reads.ts).
 * The feed vouches only for a stretch in which it was subscribed throughout:
 * from the channel's confirmed SUBSCRIBE, and after a reconnect only from
 * {@link RESUBSCRIBE_GRACE_MS} after the connection is back (ioredis
 * resubscribes by itself; what was published while it was down is lost).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { Logger } from '@rental/observability';
import type { ViewSnapshot } from '../data/view-data.js';

export function reservationChannel(prefix: string, reservationId: string): string {
  return `${prefix}:view:reservation:${reservationId}`;
}

export function customerChannel(prefix: string, customerId: string): string {
  return `${prefix}:view:customer:${customerId}`;
}

/** Publishes changes (the worker). */
export class ViewPublisher {
  private readonly redis: Redis;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    logger: Logger,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
    this.redis.on('error', (err) => logger.warn({ err }, 'view publisher: redis error'));
  }

  async publish(snapshot: ViewSnapshot): Promise<void> {
    const message = JSON.stringify(snapshot);
    await Promise.all([
      this.redis.publish(reservationChannel(this.prefix, snapshot.reservationId), message),
      snapshot.customerId ? this.redis.publish(customerChannel(this.prefix, snapshot.customerId), message) : Promise.resolve(0),
    ]);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}

type Listener = (snapshot: ViewSnapshot) => void;

/** How long the feed remembers what it heard on a channel. */
export const RECENT_MS = 2_000;
/** After a reconnect, how long until the feed vouches for a channel again (its automatic resubscribe is in place by then). */
export const RESUBSCRIBE_GRACE_MS = 1_000;

/** What one channel heard lately, and since when it has been heard without a gap. */
interface Heard {
  /** `performance.now()` from which every message published on the channel was heard (+∞: not yet). */
  since: number;
  recent: Array<{ at: number; snapshot: ViewSnapshot }>;
}

/**
 * One subscriber connection per API process, shared by every subscription:
 * a channel is SUBSCRIBEd while at least one listener wants it and
 * UNSUBSCRIBEd when the last one leaves.
 */
export class ViewFeed {
  private readonly redis: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnectListeners = new Set<() => void>();
  /** Serializes SUBSCRIBE/UNSUBSCRIBE per channel. */
  private readonly ops = new Map<string, Promise<unknown>>();
  private readonly heard = new Map<string, Heard>();
  private wasReady = false;
  private closed = false;

  constructor(
    redisUrl: string,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null, autoResubscribe: true });
    this.redis.on('error', (err) => logger.warn({ err }, 'view feed: redis error'));
    this.redis.on('ready', () => {
      if (this.wasReady) {
        logger.info('view feed: redis connection back; subscriptions catch up from the change log');
        // Messages were lost while it was down: vouch again only once the resubscribe is surely in place.
        const from = performance.now() + RESUBSCRIBE_GRACE_MS;
        for (const h of this.heard.values()) {
          h.since = from;
          h.recent.length = 0;
        }
        for (const fn of this.reconnectListeners) fn();
      }
      this.wasReady = true;
    });
    this.redis.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      let snapshot: ViewSnapshot;
      try {
        snapshot = JSON.parse(message) as ViewSnapshot;
      } catch (err) {
        logger.warn({ err, channel }, 'view feed: unreadable message ignored');
        return;
      }
      const h = this.heard.get(channel);
      if (h) {
        const at = performance.now();
        h.recent.push({ at, snapshot });
        while (h.recent.length > 0 && (h.recent[0] as { at: number }).at < at - RECENT_MS) h.recent.shift();
      }
      for (const fn of set) fn(snapshot);
    });
  }

  /**
   * Every message heard on `channel` since `since` (a `performance.now()`
   * time), or undefined when the feed cannot vouch for that whole stretch
   * (not subscribed throughout, or longer ago than {@link RECENT_MS}).
   */
  heardSince(channel: string, since: number): ViewSnapshot[] | undefined {
    const h = this.heard.get(channel);
    const now = performance.now();
    if (!h || h.since > since || since < now - RECENT_MS) return undefined;
    return h.recent.filter((m) => m.at >= since).map((m) => m.snapshot);
  }

  private serial<T>(channel: string, op: () => Promise<T>): Promise<T> {
    const prev = this.ops.get(channel) ?? Promise.resolve();
    const next = prev.then(op, op);
    this.ops.set(channel, next);
    void next.finally(() => {
      if (this.ops.get(channel) === next) this.ops.delete(channel);
    }).catch(() => undefined);
    return next;
  }

  /**
   * Listens to `channel`; resolves once Redis confirmed the subscription (so
   * every message published from then on is heard). Resolves to the
   * function that stops listening.
   */
  async listen(channel: string, fn: Listener, onReconnect?: () => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('view feed closed');
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    if (onReconnect) this.reconnectListeners.add(onReconnect);
    try {
      // `heard` has the channel exactly while Redis confirmed it subscribed
      // (set after SUBSCRIBE, removed before UNSUBSCRIBE, both serial per
      // channel): the 200th screen on one reservation sends no SUBSCRIBE and
      // waits for nobody's.
      if (this.ops.has(channel) || !this.heard.has(channel)) {
        await this.serial(channel, async () => {
          if (!this.listeners.get(channel)?.has(fn) || this.heard.has(channel)) return;
          await this.redis.subscribe(channel);
          this.heard.set(channel, { since: performance.now(), recent: [] });
        });
      }
    } catch (err) {
      set.delete(fn);
      if (onReconnect) this.reconnectListeners.delete(onReconnect);
      throw err;
    }
    let stopped = false;
    return async () => {
      if (stopped) return;
      stopped = true;
      if (onReconnect) this.reconnectListeners.delete(onReconnect);
      const current = this.listeners.get(channel);
      current?.delete(fn);
      if (current && current.size === 0) {
        this.listeners.delete(channel);
        await this.serial(channel, async () => {
          if (this.listeners.has(channel)) return;
          this.heard.delete(channel);
          if (!this.closed) await this.redis.unsubscribe(channel);
        }).catch((err: unknown) => this.logger.warn({ err, channel }, 'view feed: unsubscribe failed'));
      }
    };
  }

  /** Channels this process is subscribed to (for tests and metrics). */
  channels(): string[] {
    return [...this.listeners.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.heard.clear();
    this.reconnectListeners.clear();
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
