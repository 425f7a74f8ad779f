/** The subgraph over HTTP: identity header, health, the federation SDL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_HEADER, signInternalIdentity } from '@rental/auth';
import { as, startTestItems, type TestItems } from './testing.js';

let t: TestItems;
beforeAll(async () => {
  t = await startTestItems();
});
afterAll(async () => {
  await t?.stop();
});

describe('items subgraph over HTTP', () => {
  it('answers 401 UNAUTHENTICATED without an identity header', async () => {
    const res = await t.gql('{ items { totalCount } }', undefined, null);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeUndefined();
  });

  it('answers 401 to an identity signed with another secret', async () => {
    const token = await signInternalIdentity(as.admin, 'x'.repeat(40));
    const res = await fetch(t.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: token },
      body: JSON.stringify({ query: '{ items { totalCount } }' }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('lets an anonymous (routed) caller browse', async () => {
    const res = await t.gql<{ items: { totalCount: number } }>('{ items { totalCount } }');
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data?.items.totalCount).toBe(0);
  });

  it('is live and ready', async () => {
    const base = t.running.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('publishes a federation SDL with the internal fields @inaccessible', async () => {
    const res = await t.gql<{ _service: { sdl: string } }>('{ _service { sdl } }');
    const sdl = res.data?._service.sdl ?? '';
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
    expect(sdl).toMatch(/type Item\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/holdStock\(reservationId: ID!, itemId: ID!, quantity: Int!\): StockHold! @inaccessible/);
    expect(sdl).toMatch(/releaseStock\(reservationId: ID!, itemId: ID!\): StockHold @inaccessible/);
    expect(sdl).toMatch(/type StockHold\s+@inaccessible/);
    expect(sdl).toMatch(/type PageInfo\s+@shareable/);
    expect(sdl).not.toMatch(/\bholds\s*[:(]/);
  });

  it('answers a malformed body with BAD_REQUEST, not a stack trace', async () => {
    const token = await signInternalIdentity(as.anonymous, t.secret);
    const res = await fetch(t.running.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: token },
      body: '{"query": ',
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});
