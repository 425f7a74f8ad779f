/**
 * The router's bearer-token verifier remembers a verified token: a caller's
 * second request costs no signature check, yet an expired token is refused
 * even while remembered, a bad one is never remembered, and a token is kept
 * no longer than the cache's age limit.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError } from '@rental/auth';
import { TokenVerifier } from './verifier.js';

const SECRET = 'router-verifier-test-secret-0123456789abc';
const T0 = 1_800_000_000_000;

function clock(start = T0) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = start + ms) };
}

/** A caller's HS256 token issued at `iatMs`, valid for `ttlS` seconds. */
function token(sub: string, iatMs: number, ttlS: number, secret = SECRET): Promise<string> {
  const iat = Math.floor(iatMs / 1000);
  return new SignJWT({ role: 'CUSTOMER' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlS)
    .sign(new TextEncoder().encode(secret));
}

describe('router TokenVerifier cache', () => {
  it('checks a token once: later requests with it are cache hits with the same caller and expiry', async () => {
    const c = clock();
    const verifier = new TokenVerifier({ secret: SECRET, now: c.now, clockToleranceSeconds: 0 });
    const jwt = await token('carol', T0, 3600);
    const first = await verifier.authenticate(`Bearer ${jwt}`);
    c.set(60_000);
    const second = await verifier.authenticate(`Bearer ${jwt}`);
    expect(second).toEqual(first);
    expect(first).toEqual({ identity: { sub: 'carol', role: 'CUSTOMER' }, expiresAt: T0 + 3_600_000 });
    expect(verifier.cacheStats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('refuses a remembered token once it has expired', async () => {
    const c = clock();
    const verifier = new TokenVerifier({ secret: SECRET, now: c.now, clockToleranceSeconds: 0 });
    const jwt = await token('carol', T0, 60);
    await verifier.verify(jwt);
    c.set(58_000);
    await verifier.verify(jwt);
    expect(verifier.cacheStats()).toMatchObject({ hits: 1, misses: 1 });
    c.set(61_000);
    await expect(verifier.verify(jwt)).rejects.toThrow(AuthError);
    expect(verifier.cacheStats()).toMatchObject({ hits: 1, misses: 2, size: 0 });
  });

  it('never remembers a token that failed, nor accepts one signed with another secret', async () => {
    const c = clock();
    const verifier = new TokenVerifier({ secret: SECRET, now: c.now });
    const forged = await token('mallory', T0, 3600, 'another-secret-0123456789abcdefghijklmno');
    await expect(verifier.verify(forged)).rejects.toThrow(AuthError);
    await expect(verifier.verify(forged)).rejects.toThrow(AuthError);
    expect(verifier.cacheStats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });

  it('verifies a token again after the cache age limit, however long the token lives', async () => {
    const c = clock();
    const verifier = new TokenVerifier({ secret: SECRET, now: c.now, cacheMaxAgeMs: 10_000 });
    const jwt = await token('carol', T0, 8 * 3600);
    await verifier.verify(jwt);
    c.set(8_000);
    await verifier.verify(jwt);
    c.set(9_500);
    await verifier.verify(jwt);
    expect(verifier.cacheStats()).toMatchObject({ hits: 1, misses: 2 });
  });
});
