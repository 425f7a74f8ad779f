/**
 * Verifying internal identity tokens once per token instead of on every
 * request: the router reuses a token for up to half its lifetime (signer.ts),
 * so a subgraph sees the same exact string on many requests. A verified token
 * is remembered with its identity until shortly before it stops being valid;
 * after that it is verified again, and refused once expired. A token that
 * fails verification is never remembered, so a bad one costs a full check
 * every time and cannot push good ones out of the cache.
 *
 * Safe because the key is the whole token string: its signature covers every
 * claim, so the same string always carries the same identity, and one
 * verifier holds one secret (a token accepted under another secret is not
 * accepted here).
 */
import { LRUCache } from 'lru-cache';
import { verifyInternalToken, type InternalIdentity } from './internal-token.js';

/** Tuning and testing knobs of {@link InternalIdentityVerifier}. */
export interface VerifierOptions {
  /** Tokens remembered (least recently used ones are dropped). Default 10000. */
  maxEntries?: number;
  /** A remembered token is verified again from this long before it expires. Default 1000. */
  marginMs?: number;
  /** The clock, ms since the epoch, for the cache and for jose's expiry checks (tests move it). Default `Date.now`. */
  now?: () => number;
}

/** Counters that show the cache at work. */
export interface VerifierStats {
  /** Calls answered from the cache (or by a verification already under way for the same token). */
  hits: number;
  /** Full verifications run (signature and claims). */
  misses: number;
  /** Tokens remembered now. */
  size: number;
}

interface Entry {
  identity: Promise<InternalIdentity>;
  /** Served from the cache until then (ms since the epoch); +∞ while the verification runs. */
  usableUntil: number;
}

/** Verifies internal identity tokens signed with one secret, remembering the good ones until shortly before expiry. */
export class InternalIdentityVerifier {
  private readonly cache: LRUCache<string, Entry>;
  private readonly now: () => number;
  private readonly marginMs: number;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly secret: string,
    options: VerifierOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.marginMs = options.marginMs ?? 1_000;
    // The cache's own clock is ours, so its per-entry ttl and our check below agree.
    // ttlResolution 0: read the clock on every check (no 1 ms memo of "now").
    this.cache = new LRUCache<string, Entry>({
      max: options.maxEntries ?? 10_000,
      perf: { now: () => this.now() },
      ttlResolution: 0,
    });
  }

  /** The identity `token` carries; throws {@link AuthError} when it is not a valid internal token now. */
  async verify(token: string): Promise<InternalIdentity> {
    const now = this.now();
    const hit = this.cache.get(token);
    // The ttl already drops an entry at usableUntil; the explicit check keeps an expired token
    // refused whatever the cache library's timing does.
    if (hit && now < hit.usableUntil) {
      this.hits += 1;
      return { ...(await hit.identity) };
    }
    this.misses += 1;
    const verified = verifyInternalToken(token, this.secret, now);
    const entry: Entry = { identity: verified.then((v) => v.identity), usableUntil: Number.POSITIVE_INFINITY };
    // Its failure reaches every waiter; with none, it must not count as an unhandled rejection.
    entry.identity.catch(() => undefined);
    // Concurrent requests with the same token wait for this verification instead of repeating it.
    this.cache.set(token, entry);
    try {
      const { identity, validUntilMs } = await verified;
      const usableUntil = validUntilMs - this.marginMs;
      const current = this.cache.peek(token) === entry;
      if (usableUntil > this.now() && current) {
        entry.usableUntil = usableUntil;
        this.cache.set(token, entry, { ttl: usableUntil - this.now() });
      } else if (current) {
        // Too close to expiry to be worth remembering.
        this.cache.delete(token);
      }
      return { ...identity };
    } catch (err) {
      if (this.cache.peek(token) === entry) this.cache.delete(token);
      throw err;
    }
  }

  /** How often a token came from the cache vs was verified in full, and how many are remembered. */
  stats(): VerifierStats {
    return { hits: this.hits, misses: this.misses, size: this.cache.size };
  }
}
