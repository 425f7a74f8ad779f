/**
 * Which key source verifies people's tokens, checked at start-up:
 * `JWKS_URL` set → JWKS (JWT_SECRET is then not used for people's tokens);
 * else `JWT_SECRET` (HS256). Neither → a configuration error.
 *
 * Production (`NODE_ENV=production`) refuses to start on the shared HS256
 * secret alone unless `ALLOW_HS256_IN_PRODUCTION=true` says so explicitly:
 * whoever holds that secret can mint any identity, so production should
 * verify the identity provider's public keys instead.
 */
import { ConfigError } from '@rental/config';
import type { RouterConfig } from '../config.js';
import { TokenVerifier } from './verifier.js';

export function createTokenVerifier(config: RouterConfig): TokenVerifier {
  const problems: string[] = [];
  const production = config.NODE_ENV === 'production';
  if (!config.JWKS_URL && !config.JWT_SECRET) problems.push('JWT_SECRET: is required unless JWKS_URL is set');
  if (production && !config.JWKS_URL && !config.ALLOW_HS256_IN_PRODUCTION) {
    problems.push(
      'JWKS_URL: production verifies tokens against the identity provider\'s keys; set JWKS_URL, or ALLOW_HS256_IN_PRODUCTION=true to accept JWT_SECRET (HS256) tokens knowingly',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  try {
    return new TokenVerifier({
      ...(config.JWKS_URL ? { jwksUrl: config.JWKS_URL } : { secret: config.JWT_SECRET }),
      ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
      ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
      ...(config.JWT_ALGORITHMS.length > 0 ? { algorithms: config.JWT_ALGORITHMS } : {}),
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
      jwksCooldownMs: config.JWKS_COOLDOWN_MS,
      jwksCacheMaxAgeMs: config.JWKS_CACHE_MAX_AGE_MS,
    });
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}
