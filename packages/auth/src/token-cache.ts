/**
 * Remembering verified tokens: a signature check per request is a large part
 * of what a request costs (jose's HMAC runs through WebCrypto, a job on the
 * thread pool per call), while a caller sends the same exact token on many
 * requests. Used by the subgraphs for the router's internal identities
 * (verifier.ts) and by the router for callers' bearer tokens.
 *
 * Rules (each one is why the cache is safe):
 * - The key is the whole token string. Its signature covers every claim, so
 *   the same string always carries the same identity; one cache belongs to
 *   one verifier, with one key source.
 * - A verified token is served until `marginMs` before the time its
 *   verification said it stops being valid (its `exp`, or sooner), and never
 *   past it: after that it is verified again, and refused once expired.
 * - A token that fails verification is never remembered: a bad one costs a
 *   full check every time and cannot push good ones out of the cache.
 * - Concurrent calls with a token being verified share that verification.
 * - Bounded: the least recently used tokens are dropped past `maxEntries`.
 */
import { LRUCache } from 'lru-cache';

/** Tuning and testing knobs of {@link VerifiedTokenCache}. */
export interface TokenCacheOptions {
  /** Tokens remembered (least recently used ones are dropped). Default 10000. */
  maxEntries?: number;
  /** A remembered token is verified again from this long before it stops being valid. Default 1000. */
  marginMs?: number;
  /** The clock, ms since the epoch (tests move it). Default `Date.now`. */
  now?: () => number;
}

/** Counters that show the cache at work. */
export interface TokenCacheStats {
  /** Calls answered from the cache (or by a verification already under way for the same token). */
  hits: number;
  /** Full verifications run (signature and claims). */
  misses: number;
  /** Tokens remembered now. */
  size: number;
}

/** What a full verification returns: the value to remember, and until when it holds (ms since the epoch). */
export interface Verified<T> {
  value: T;
  validUntilMs: number;
}

interface Entry<T> {
  value: Promise<T>;
  /** Served from the cache until then (ms since the epoch); +∞ while the verification runs. */
  usableUntil: number;
}

/** A bounded map from token string to what its successful verification returned. */
export class VerifiedTokenCache<T> {
  private readonly cache: LRUCache<string, Entry<T>>;
  private readonly marginMs: number;
  private hits = 0;
  private misses = 0;

  constructor(options: TokenCacheOptions = {}) {
    const now = options.now ?? Date.now;
    this.now = now;
    this.marginMs = options.marginMs ?? 1_000;
    // The cache's own clock is ours, so its per-entry ttl and our check below agree.
    // ttlResolution 0: read the clock on every check (no 1 ms memo of "now").
    this.cache = new LRUCache<string, Entry<T>>({
      max: options.maxEntries ?? 10_000,
      perf: { now: () => now() },
      ttlResolution: 0,
    });
  }

  /** The clock the cache and its verifications share. */
  readonly now: () => number;

  /**
   * What `token` verified to: from the cache while it is usable, else from
   * `verify` (run once for concurrent callers). Rejects as `verify` does.
   */
  async get(token: string, verify: () => Promise<Verified<T>>): Promise<T> {
    const hit = this.cache.get(token);
    // The ttl already drops an entry at usableUntil; the explicit check keeps an expired token
    // refused whatever the cache library's timing does.
    if (hit && this.now() < hit.usableUntil) {
      this.hits += 1;
      return hit.value;
    }
    this.misses += 1;
    const verified = verify();
    const entry: Entry<T> = { value: verified.then((v) => v.value), usableUntil: Number.POSITIVE_INFINITY };
    // Its failure reaches every waiter; with none, it must not count as an unhandled rejection.
    entry.value.catch(() => undefined);
    this.cache.set(token, entry);
    try {
      const { value, validUntilMs } = await verified;
      this.settle(token, entry, validUntilMs - this.marginMs);
      return value;
    } catch (err) {
      if (this.cache.peek(token) === entry) this.cache.delete(token);
      throw err;
    }
  }

  /** Keeps a verified entry until `usableUntil`, or drops it when that is already past (or it was replaced). */
  private settle(token: string, entry: Entry<T>, usableUntil: number): void {
    if (this.cache.peek(token) !== entry) return;
    const ttl = usableUntil - this.now();
    if (ttl <= 0) {
      // Too close to expiry to be worth remembering.
      this.cache.delete(token);
      return;
    }
    entry.usableUntil = usableUntil;
    this.cache.set(token, entry, { ttl });
  }

  /** How often a token came from the cache vs was verified in full, and how many are remembered. */
  stats(): TokenCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }
}
