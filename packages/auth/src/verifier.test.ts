/**
 * The verification cache: a token verified once is served from the cache
 * (hit/miss counters show it), refused once expired even though cached,
 * never cached when bad, and never valid under another secret.
 */
import { describe, expect, it } from 'vitest';
import { signInternalToken } from './internal-token.js';
import { AuthError, InternalIdentitySigner, InternalIdentityVerifier, type Identity } from './index.js';

const SECRET = 'verifier-test-secret-0123456789abcdefghi';
const OTHER = 'another-secret-0123456789abcdefghijklmno';
const T0 = 1_800_000_000_000;
const alice: Identity = { sub: 'alice', role: 'CUSTOMER' };

function clock(start = T0) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = start + ms) };
}

describe('InternalIdentityVerifier', () => {
  it('verifies the same token once: the second call is a cache hit with the same identity', async () => {
    const verifier = new InternalIdentityVerifier(SECRET);
    const { token } = await signInternalToken(alice, SECRET, 'router');
    expect(await verifier.verify(token)).toEqual({ ...alice, issuer: 'router' });
    expect(await verifier.verify(token)).toEqual({ ...alice, issuer: 'router' });
    expect(verifier.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it('verifies a burst of concurrent requests with one token once', async () => {
    const verifier = new InternalIdentityVerifier(SECRET);
    const { token } = await signInternalToken(alice, SECRET, 'router');
    const all = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(all.every((i) => i.sub === 'alice')).toBe(true);
    expect(verifier.stats()).toMatchObject({ hits: 19, misses: 1 });
  });

  it('refuses a cached token once it has expired', async () => {
    const c = clock();
    const verifier = new InternalIdentityVerifier(SECRET, { now: c.now });
    const { token } = await signInternalToken(alice, SECRET, 'router', T0);
    c.set(1_000);
    await verifier.verify(token);
    c.set(58_000);
    await verifier.verify(token);
    expect(verifier.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
    // Past exp, with the token still remembered: refused, not served from the cache.
    c.set(61_000);
    await expect(verifier.verify(token)).rejects.toThrow(new AuthError('token expired'));
    await expect(verifier.verify(token)).rejects.toThrow(new AuthError('token expired'));
    expect(verifier.stats()).toEqual({ hits: 1, misses: 3, size: 0 });
  });

  it('stops answering from the cache a margin before exp, and refuses at exp', async () => {
    const c = clock();
    const verifier = new InternalIdentityVerifier(SECRET, { now: c.now, marginMs: 1_000 });
    const { token } = await signInternalToken(alice, SECRET, 'router', T0);
    await verifier.verify(token);
    c.set(58_999);
    await verifier.verify(token);
    expect(verifier.stats()).toMatchObject({ hits: 1, misses: 1 });
    // Inside the last second: verified in full (still valid), and not remembered again.
    c.set(59_500);
    expect(await verifier.verify(token)).toEqual({ ...alice, issuer: 'router' });
    expect(verifier.stats()).toEqual({ hits: 1, misses: 2, size: 0 });
    c.set(60_000);
    await expect(verifier.verify(token)).rejects.toThrow(new AuthError('token expired'));
  });

  it('never caches a token that failed verification', async () => {
    const verifier = new InternalIdentityVerifier(SECRET);
    const { token: foreign } = await signInternalToken(alice, OTHER, 'router');
    const [header, , signature] = (await signInternalToken(alice, SECRET, 'router')).token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'mallory', role: 'ADMIN', iss: 'router', aud: 'subgraph', iat: 1, exp: 9_999_999_999 })).toString('base64url');
    for (const bad of [foreign, `${header}.${payload}.${signature}`, 'not-a-jwt']) {
      await expect(verifier.verify(bad)).rejects.toBeInstanceOf(AuthError);
      await expect(verifier.verify(bad)).rejects.toBeInstanceOf(AuthError);
    }
    expect(verifier.stats()).toEqual({ hits: 0, misses: 6, size: 0 });
  });

  it('a token cached by a verifier with one secret is refused by a verifier with another', async () => {
    const { token } = await signInternalToken(alice, SECRET, 'router');
    await new InternalIdentityVerifier(SECRET).verify(token);
    await expect(new InternalIdentityVerifier(OTHER).verify(token)).rejects.toThrow(new AuthError('token signature is invalid'));
  });

  it('tokens of different identities are cached apart and answer their own identity', async () => {
    const c = clock();
    const signer = new InternalIdentitySigner(SECRET, 'router', { now: c.now });
    const service = new InternalIdentitySigner(SECRET, 'reservations', { now: c.now });
    const verifier = new InternalIdentityVerifier(SECRET, { now: c.now });
    const staff: Identity = { sub: 'bob', role: 'STAFF', storeId: 'S1' };
    const tokens = [await signer.sign(alice), await signer.sign(staff), await service.sign({ sub: 'reservations', role: 'SERVICE' })];
    for (let round = 0; round < 2; round++) {
      expect(await verifier.verify(tokens[0]!)).toEqual({ ...alice, issuer: 'router' });
      expect(await verifier.verify(tokens[1]!)).toEqual({ ...staff, issuer: 'router' });
      expect(await verifier.verify(tokens[2]!)).toEqual({ sub: 'reservations', role: 'SERVICE', issuer: 'reservations' });
    }
    expect(verifier.stats()).toEqual({ hits: 3, misses: 3, size: 3 });
  });

  it('a caller changing its copy of the identity does not change what the cache answers', async () => {
    const verifier = new InternalIdentityVerifier(SECRET);
    const { token } = await signInternalToken(alice, SECRET, 'router');
    const first = await verifier.verify(token);
    first.role = 'ADMIN';
    expect((await verifier.verify(token)).role).toBe('CUSTOMER');
  });

  it('stays bounded: the least recently used token is dropped', async () => {
    const verifier = new InternalIdentityVerifier(SECRET, { maxEntries: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map(async (sub) => (await signInternalToken({ sub, role: 'CUSTOMER' }, SECRET, 'router')).token));
    for (const t of tokens) await verifier.verify(t);
    expect(verifier.stats().size).toBe(2);
    await verifier.verify(tokens[0]!);
    expect(verifier.stats()).toMatchObject({ hits: 0, misses: 4 });
  });
});
