/**
 * Signing internal identities once per identity per half lifetime instead of
 * on every call: the router signs one for each subgraph fetch and a service
 * for each call to another, and the same caller makes many calls while a
 * token is young. A token is reused while more than half of its lifetime is
 * left, so a 60 s token is signed about once per 30 s per identity and a
 * forwarded token always has at least 30 s to live.
 */
import { LRUCache } from 'lru-cache';
import type { Identity } from './identity.js';
import { INTERNAL_AUDIENCE, INTERNAL_TOKEN_TTL_SECONDS, signInternalToken } from './internal-token.js';

/** Tuning and testing knobs of {@link InternalIdentitySigner}. */
export interface SignerOptions {
  /** Identities remembered (least recently used ones are dropped). Default 10000. */
  maxEntries?: number;
  /** The clock, ms since the epoch (tests move it). Default `Date.now`. */
  now?: () => number;
}

/** Counters that show the cache at work. */
export interface SignerStats {
  /** Calls answered with a token signed earlier (or being signed). */
  reused: number;
  /** Tokens signed. */
  signed: number;
  /** Identities remembered now. */
  size: number;
}

interface Entry {
  token: Promise<string>;
  /** Reused until then: the moment half of the token's lifetime is gone. */
  reuseUntil: number;
}

const HALF_LIFETIME_MS = (INTERNAL_TOKEN_TTL_SECONDS * 1000) / 2;

/** Signs internal identity tokens, reusing one per identity while more than half its lifetime is left. */
export class InternalIdentitySigner {
  private readonly cache: LRUCache<string, Entry>;
  private readonly now: () => number;
  private reused = 0;
  private signed = 0;

  constructor(
    private readonly secret: string,
    private readonly issuer = 'router',
    options: SignerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache<string, Entry>({ max: options.maxEntries ?? 10_000 });
  }

  /** A token for `identity`: the remembered one while it has more than half its life left, else a new one. */
  sign(identity: Identity): Promise<string> {
    // Everything that goes into the token, so two identities never share one. JSON keeps the
    // parts apart whatever characters a subject holds; an absent storeId differs from "".
    const key = JSON.stringify([this.issuer, INTERNAL_AUDIENCE, identity.role, identity.sub, identity.storeId ?? null]);
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now < hit.reuseUntil) {
      this.reused += 1;
      return hit.token;
    }
    this.signed += 1;
    // Concurrent callers for the same identity share this one signature (a burst at the
    // half-life mark signs once). A failed signature is forgotten, so the next call tries again.
    const token = signInternalToken(identity, this.secret, this.issuer, now).then(({ token }) => token);
    // Signed as of `now` in whole seconds: exp = floor(now / 1 s) + lifetime, so half of it is
    // gone at exp − half lifetime (never later than now + half lifetime).
    const reuseUntil = (Math.floor(now / 1000) + INTERNAL_TOKEN_TTL_SECONDS) * 1000 - HALF_LIFETIME_MS;
    const entry: Entry = { token, reuseUntil };
    this.cache.set(key, entry);
    token.catch(() => {
      if (this.cache.peek(key) === entry) this.cache.delete(key);
    });
    return token;
  }

  /** How often a token was reused vs signed, and how many identities are remembered. */
  stats(): SignerStats {
    return { reused: this.reused, signed: this.signed, size: this.cache.size };
  }
}
