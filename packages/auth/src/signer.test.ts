/** The signer cache: one signature per identity per half lifetime, never a token shared between identities. */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { InternalIdentitySigner, verifyInternalIdentity, type Identity } from './index.js';

const SECRET = 'signer-test-secret-0123456789abcdefghijk';
/** A clock the test moves; starts on a whole second, as JWT times are. */
function clock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = start + ms) };
}

describe('InternalIdentitySigner', () => {
  it('reuses a token while more than half its lifetime is left, then signs a new one', async () => {
    const c = clock();
    const signer = new InternalIdentitySigner(SECRET, 'router', { now: c.now });
    const alice: Identity = { sub: 'alice', role: 'CUSTOMER' };
    const first = await signer.sign(alice);
    c.set(29_999);
    expect(await signer.sign(alice)).toBe(first);
    expect(signer.stats()).toMatchObject({ signed: 1, reused: 1 });
    c.set(30_000);
    const second = await signer.sign(alice);
    expect(second).not.toBe(first);
    expect(signer.stats()).toMatchObject({ signed: 2, reused: 1 });
    // The new token was issued at the moment it was signed: a full lifetime ahead.
    expect(decodeJwt(second).iat).toBe(decodeJwt(first).iat! + 30);
    expect(decodeJwt(second).exp! - decodeJwt(second).iat!).toBe(60);
  });

  it('never hands out a token with less than half its lifetime left, even signed mid-second', async () => {
    const c = clock(1_800_000_000_999);
    const signer = new InternalIdentitySigner(SECRET, 'router', { now: c.now });
    const identity: Identity = { sub: 'bob', role: 'ADMIN' };
    const token = await signer.sign(identity);
    const exp = decodeJwt(token).exp! * 1000;
    // iat is rounded down, so the token dies 999 ms earlier than 60 s after signing; reuse stops 30 s before it.
    c.set(exp - 30_000 - 1_800_000_000_999 - 1);
    expect(await signer.sign(identity)).toBe(token);
    c.set(exp - 30_000 - 1_800_000_000_999);
    expect(await signer.sign(identity)).not.toBe(token);
  });

  it('signs a burst of concurrent calls for one identity once', async () => {
    const signer = new InternalIdentitySigner(SECRET);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => signer.sign({ sub: 'carol', role: 'CUSTOMER' })));
    expect(new Set(tokens).size).toBe(1);
    expect(signer.stats()).toMatchObject({ signed: 1, reused: 49, size: 1 });
  });

  it('never lets two identities share a token (sub, role, storeId, issuer)', async () => {
    const identities: Identity[] = [
      { sub: 'dave', role: 'CUSTOMER' },
      { sub: 'dave', role: 'ADMIN' },
      { sub: 'dave', role: 'STAFF', storeId: 'S1' },
      { sub: 'dave', role: 'STAFF', storeId: 'S2' },
      { sub: 'anonymous', role: 'ANONYMOUS' },
      // Separators inside a subject cannot make two keys collide.
      { sub: 'a\u0000CUSTOMER', role: 'CUSTOMER' },
      { sub: 'a', role: 'CUSTOMER', storeId: 'CUSTOMER' },
      { sub: 'a","CUSTOMER', role: 'CUSTOMER' },
    ];
    const router = new InternalIdentitySigner(SECRET, 'router');
    const service = new InternalIdentitySigner(SECRET, 'reservations');
    const tokens = new Map<string, string>();
    for (const [signerName, signer] of [['router', router], ['reservations', service]] as const) {
      for (const identity of identities) {
        const token = await signer.sign(identity);
        expect(tokens.has(token), `${signerName} ${JSON.stringify(identity)} got another identity's token`).toBe(false);
        tokens.set(token, signerName);
        // And each token says exactly who it was signed for.
        const verified = await verifyInternalIdentity(token, SECRET);
        expect(verified).toEqual({ ...identity, issuer: signerName });
      }
    }
    expect(tokens.size).toBe(identities.length * 2);
  });

  it('stays bounded: the least recently used identity is dropped', async () => {
    const signer = new InternalIdentitySigner(SECRET, 'router', { maxEntries: 2 });
    for (const sub of ['e1', 'e2', 'e3']) await signer.sign({ sub, role: 'CUSTOMER' });
    expect(signer.stats().size).toBe(2);
    await signer.sign({ sub: 'e1', role: 'CUSTOMER' });
    expect(signer.stats().signed).toBe(4);
  });
});
