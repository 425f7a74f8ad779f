/**
 * Verifying internal identity tokens once per token instead of on every
 * request: the router reuses a token for up to half its lifetime (signer.ts),
 * so a subgraph sees the same exact string on many requests. A verified token
 * is remembered with its identity until shortly before it stops being valid;
 * after that it is verified again, and refused once expired. The rules that
 * make this safe are in token-cache.ts.
 */
import { verifyInternalToken, type InternalIdentity } from './internal-token.js';
import { VerifiedTokenCache, type TokenCacheOptions, type TokenCacheStats } from './token-cache.js';

/** Tuning and testing knobs of {@link InternalIdentityVerifier}; `now` is also jose's clock for expiry checks. */
export type VerifierOptions = TokenCacheOptions;

/** Counters that show the cache at work. */
export type VerifierStats = TokenCacheStats;

/** Verifies internal identity tokens signed with one secret, remembering the good ones until shortly before expiry. */
export class InternalIdentityVerifier {
  private readonly cache: VerifiedTokenCache<InternalIdentity>;

  constructor(
    private readonly secret: string,
    options: VerifierOptions = {},
  ) {
    this.cache = new VerifiedTokenCache(options);
  }

  /** The identity `token` carries; throws {@link AuthError} when it is not a valid internal token now. */
  async verify(token: string): Promise<InternalIdentity> {
    const identity = await this.cache.get(token, async () => {
      const { identity: value, validUntilMs } = await verifyInternalToken(token, this.secret, this.cache.now());
      return { value, validUntilMs };
    });
    // A copy: callers may extend what they get; the cached one stays as verified.
    return { ...identity };
  }

  /** How often a token came from the cache vs was verified in full, and how many are remembered. */
  stats(): VerifierStats {
    return this.cache.stats();
  }
}
