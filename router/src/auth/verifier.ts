/**
 * Verifies people's bearer tokens, with one of two key sources:
 *
 * - `secret` (local/development): HS256 with `JWT_SECRET`, what
 *   `npm run token` signs.
 * - `jwks` (production): the identity provider's public keys from
 *   `JWKS_URL` (jose `createRemoteJWKSet`: cached for `JWKS_CACHE_MAX_AGE_MS`;
 *   a token whose `kid` is not in the cached set triggers a refetch, at most
 *   once per `JWKS_COOLDOWN_MS`, so a key rotation is picked up at once while
 *   a flood of unknown `kid`s cannot hammer the provider). Asymmetric
 *   algorithms only (default RS256, ES256): an HS256 token "signed" with a
 *   public key (the HS/RS confusion attack) is refused by the algorithm list.
 *
 * Both check `exp` (required), `nbf`, `iss` = `JWT_ISSUER` and `aud` =
 * `JWT_AUDIENCE` when configured, with `JWT_CLOCK_TOLERANCE_SECONDS` of
 * tolerance; `alg: none` is never accepted (jose). Every failure is an
 * {@link AuthError} (UNAUTHENTICATED) with a short reason; a key set that
 * cannot be fetched is a {@link KeySetUnavailableError} (the router answers
 * 503 SERVICE_UNAVAILABLE: the caller did nothing wrong).
 *
 * A verified token is remembered (`@rental/auth`'s VerifiedTokenCache: by
 * its exact string, never a failed one, until 1 s before `exp`), so a
 * caller's many requests cost one signature check: the check was 8% of the
 * router's CPU on the reservation path. It is remembered for at most
 * `cacheMaxAgeMs` (default: the JWKS cache's age, 10 min), the longest a
 * removed key stays trusted by jose's key cache anyway.
 */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import {
  ANONYMOUS,
  AuthError,
  USER_ROLES,
  VerifiedTokenCache,
  explainAuthError,
  identityFromClaims,
  type Identity,
  type TokenCacheStats,
} from '@rental/auth';

export interface TokenVerifierOptions {
  /** HS256 secret (mode `secret`). */
  secret?: string;
  /** JWKS endpoint (mode `jwks`); wins over `secret`. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Accepted `alg`s; default HS256 (secret) or RS256, ES256 (JWKS). */
  algorithms?: string[];
  clockToleranceSeconds?: number;
  jwksCooldownMs?: number;
  jwksCacheMaxAgeMs?: number;
  jwksTimeoutMs?: number;
  /** A verified token is served from memory for at most this long. Default `jwksCacheMaxAgeMs` (600000). */
  cacheMaxAgeMs?: number;
  /** Tokens remembered at most. Default 10000. */
  cacheMaxEntries?: number;
  /** The clock, ms since the epoch, of the cache and of the expiry checks (tests move it). */
  now?: () => number;
}

/** A verified caller and, for a signed-in one, when the token expires (ms since epoch). */
export interface Authenticated {
  identity: Identity;
  expiresAt?: number;
}

/** The key set could not be fetched (and no cached key fits): not the caller's fault. */
export class KeySetUnavailableError extends Error {
  constructor(message = 'the token signing keys are unavailable; try again shortly') {
    super(message);
    this.name = 'KeySetUnavailableError';
  }
}

const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

export class TokenVerifier {
  readonly mode: 'secret' | 'jwks';
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;
  private readonly cache: VerifiedTokenCache<Authenticated>;
  private readonly cacheMaxAgeMs: number;

  constructor(opts: TokenVerifierOptions) {
    this.cache = new VerifiedTokenCache({ maxEntries: opts.cacheMaxEntries ?? 10_000, ...(opts.now ? { now: opts.now } : {}) });
    this.cacheMaxAgeMs = opts.cacheMaxAgeMs ?? opts.jwksCacheMaxAgeMs ?? 600_000;
    if (opts.jwksUrl) {
      this.mode = 'jwks';
      const algorithms = opts.algorithms ?? ['RS256', 'ES256'];
      const bad = algorithms.filter((a) => !ASYMMETRIC.has(a));
      if (bad.length > 0) throw new Error(`JWT_ALGORITHMS: ${bad.join(', ')} cannot be used with JWKS_URL (asymmetric algorithms only)`);
      this.key = createRemoteJWKSet(new URL(opts.jwksUrl), {
        cooldownDuration: opts.jwksCooldownMs ?? 30_000,
        cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000,
        timeoutDuration: opts.jwksTimeoutMs ?? 5_000,
      });
      this.options = this.verifyOptions(opts, algorithms);
    } else if (opts.secret) {
      this.mode = 'secret';
      const algorithms = opts.algorithms ?? ['HS256'];
      const bad = algorithms.filter((a) => !['HS256', 'HS384', 'HS512'].includes(a));
      if (bad.length > 0) throw new Error(`JWT_ALGORITHMS: ${bad.join(', ')} cannot be used with JWT_SECRET (HS256/384/512 only)`);
      this.key = new TextEncoder().encode(opts.secret);
      this.options = this.verifyOptions(opts, algorithms);
    } else {
      throw new Error('either JWT_SECRET or JWKS_URL must be set');
    }
  }

  private verifyOptions(opts: TokenVerifierOptions, algorithms: string[]): JWTVerifyOptions {
    return {
      algorithms,
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
      ...(opts.audience ? { audience: opts.audience } : {}),
      requiredClaims: ['exp', 'sub'],
      clockTolerance: opts.clockToleranceSeconds ?? 5,
    };
  }

  /** Verifies a compact JWT (once while it stays cached); throws {@link AuthError} or {@link KeySetUnavailableError}. */
  async verify(token: string): Promise<Authenticated> {
    const { identity, expiresAt } = await this.cache.get(token, () => this.verifyFully(token));
    // Copies: callers may extend what they get; the cached one stays as verified.
    return { identity: { ...identity }, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }

  /** How often a token came from the cache vs was verified in full. */
  cacheStats(): TokenCacheStats {
    return this.cache.stats();
  }

  /** Signature and claims, no cache; remembered until `exp` (required) or the cache's age limit. */
  private async verifyFully(token: string): Promise<{ value: Authenticated; validUntilMs: number }> {
    const now = this.cache.now();
    const options = { ...this.options, currentDate: new Date(now) };
    try {
      const { payload } =
        typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options);
      const identity = identityFromClaims(payload, USER_ROLES);
      const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
      const value: Authenticated = { identity, ...(expiresAt !== undefined ? { expiresAt } : {}) };
      return { value, validUntilMs: Math.min(expiresAt ?? now, now + this.cacheMaxAgeMs) };
    } catch (err) {
      if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) throw new KeySetUnavailableError();
      // A fetch failure (connection refused, non-200) surfaces as a plain error from jose's fetch.
      if (this.mode === 'jwks' && !(err instanceof joseErrors.JOSEError) && !(err instanceof AuthError)) {
        throw new KeySetUnavailableError();
      }
      if (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC' && /Expected 200 OK/i.test(err.message)) {
        throw new KeySetUnavailableError();
      }
      throw explainAuthError(err);
    }
  }

  /**
   * An `Authorization` header value: absent/empty → ANONYMOUS; `Bearer <jwt>` →
   * the verified caller; anything else → {@link AuthError}.
   */
  async authenticate(authorization: string | undefined): Promise<Authenticated> {
    if (authorization === undefined || authorization.trim() === '') return { identity: ANONYMOUS };
    if (authorization.length > 8192) throw new AuthError('Authorization header is too long');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AuthError('Authorization header must be "Bearer <token>"');
    return this.verify(match[1]);
  }
}
