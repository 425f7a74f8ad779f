/** holdStock / releaseStock against the real database, over HTTP, with a SERVICE identity. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoose } from '@rental/db';
import { as, HOLD, registerAs, RELEASE, startTestItems, type TestItems } from './testing.js';

let t: TestItems;
beforeAll(async () => {
  t = await startTestItems();
});
afterAll(async () => {
  await t?.stop();
});

interface Hold {
  reservationId: string;
  itemId: string;
  quantity: number;
  released: boolean;
  item: { id: string; stock: number };
}
const hold = (r: string, i: string, q: number, who = as.service) => t.gql<{ holdStock: Hold }>(HOLD, { r, i, q }, who);
const release = (r: string, i: string, who = as.service) => t.gql<{ releaseStock: Hold | null }>(RELEASE, { r, i }, who);

describe('holdStock / releaseStock', () => {
  it('100 concurrent holds for 100 reservations at stock 10: exactly 10 succeed, stock ends at 0', async () => {
    const itemId = await registerAs(t, { stock: 10 });
    const rids = Array.from({ length: 100 }, () => randomUUID());
    const results = await Promise.all(rids.map((r) => hold(r, itemId, 1)));
    const ok = results.filter((r) => r.data?.holdStock);
    const failed = results.filter((r) => !r.data?.holdStock);
    expect(ok).toHaveLength(10);
    expect(failed).toHaveLength(90);
    for (const f of failed) expect(f.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    for (const o of ok) expect(o.data?.holdStock.item.stock).toBeGreaterThanOrEqual(0);
    // Each successful hold saw a distinct remaining stock 9..0: no update was lost.
    expect(ok.map((o) => o.data!.holdStock.item.stock).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await t.stockOf(itemId)).toBe(0);

    // Releasing all 10 concurrently, twice over, gives back exactly 10.
    const held = ok.map((o) => o.data!.holdStock.reservationId);
    const releases = await Promise.all([...held, ...held].map((r) => release(r, itemId)));
    for (const r of releases) expect(r.data?.releaseStock).toMatchObject({ released: true, quantity: 1 });
    expect(await t.stockOf(itemId)).toBe(10);
  });

  it('concurrent holds with larger quantities never take stock below zero', async () => {
    const itemId = await registerAs(t, { stock: 10 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => hold(randomUUID(), itemId, (i % 4) + 1)));
    const taken = results.reduce((sum, r) => sum + (r.data?.holdStock.quantity ?? 0), 0);
    for (const r of results) if (!r.data?.holdStock) expect(r.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    const stock = await t.stockOf(itemId);
    expect(stock).toBeGreaterThanOrEqual(0);
    expect(stock).toBe(10 - taken);
  });

  it('concurrent holds spread over several items stay exact per item (a shed hold, TRY_LATER, takes nothing and is tried again)', async () => {
    // Registered one by one: concurrent registrations beyond REGISTER_ITEM_CONCURRENCY are shed (TRY_LATER).
    const itemIds: string[] = [];
    for (let i = 0; i < 8; i++) itemIds.push(await registerAs(t, { stock: 5 }));
    // 96 at once: more than HOLD_STOCK_CONCURRENCY + HOLD_STOCK_QUEUE (8 + 64), so some are shed.
    const untilAnswered = async (itemId: string) => {
      for (;;) {
        const r = await hold(randomUUID(), itemId, 1);
        if (r.errors?.[0]?.extensions?.code !== 'TRY_LATER') return { itemId, r };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const results = await Promise.all(itemIds.flatMap((itemId) => Array.from({ length: 12 }, () => untilAnswered(itemId))));
    for (const itemId of itemIds) {
      const mine = results.filter((x) => x.itemId === itemId);
      expect(mine.filter((x) => x.r.data?.holdStock)).toHaveLength(5);
      for (const x of mine.filter((m) => !m.r.data?.holdStock)) expect(x.r.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
      expect(await t.stockOf(itemId)).toBe(0);
    }
  });

  it('a repeated hold and a repeated release with the same reservation change nothing', async () => {
    const itemId = await registerAs(t, { stock: 5 });
    const rid = randomUUID();

    const first = await hold(rid, itemId, 2);
    expect(first.errors).toBeUndefined();
    expect(first.data?.holdStock).toMatchObject({ reservationId: rid, itemId, quantity: 2, released: false, item: { stock: 3 } });
    expect(await t.stockOf(itemId)).toBe(3);

    const again = await hold(rid, itemId, 2);
    expect(again.data?.holdStock).toMatchObject({ reservationId: rid, quantity: 2, released: false, item: { stock: 3 } });
    expect(await t.stockOf(itemId)).toBe(3);

    // The same reservation id in upper case is the same reservation.
    const upper = await hold(rid.toUpperCase(), itemId, 2);
    expect(upper.data?.holdStock.reservationId).toBe(rid);
    expect(await t.stockOf(itemId)).toBe(3);

    // Concurrent retries of the same hold: still one hold.
    await Promise.all(Array.from({ length: 20 }, () => hold(rid, itemId, 2)));
    expect(await t.stockOf(itemId)).toBe(3);

    const released = await release(rid, itemId);
    expect(released.data?.releaseStock).toMatchObject({ reservationId: rid, quantity: 2, released: true, item: { stock: 5 } });
    expect(await t.stockOf(itemId)).toBe(5);

    const releasedAgain = await release(rid, itemId);
    expect(releasedAgain.data?.releaseStock).toMatchObject({ quantity: 2, released: true, item: { stock: 5 } });
    expect(await t.stockOf(itemId)).toBe(5);

    // A hold retried after its release does not take the stock again.
    const late = await hold(rid, itemId, 2);
    expect(late.data?.holdStock).toMatchObject({ quantity: 2, released: true });
    expect(await t.stockOf(itemId)).toBe(5);
  });

  it('released holds leave the item document, so it stays as small as its active holds', async () => {
    const itemId = await registerAs(t, { stock: 50 });
    const rids = Array.from({ length: 30 }, () => randomUUID());
    await Promise.all(rids.map((r) => hold(r, itemId, 1)));
    await Promise.all(rids.slice(0, 25).map((r) => release(r, itemId)));
    const raw = await t.db.collection('items').findOne({ _id: new mongoose.Types.ObjectId(itemId) });
    expect(Object.keys((raw?.holds as Record<string, unknown> | undefined) ?? {})).toHaveLength(5);
    expect(raw?.stock).toBe(45);
    // Each release is remembered outside the item, and a late retry of any of them changes nothing.
    expect(await t.db.collection('stock_releases').countDocuments({ itemId })).toBe(25);
    const late = await Promise.all(rids.slice(0, 25).map((r) => hold(r, itemId, 1)));
    for (const l of late) expect(l.data?.holdStock).toMatchObject({ released: true });
    expect(await t.stockOf(itemId)).toBe(45);
  });

  it('a repeated hold with another quantity is INVALID_STATE and changes nothing', async () => {
    const itemId = await registerAs(t, { stock: 5 });
    const rid = randomUUID();
    await hold(rid, itemId, 2);
    const res = await hold(rid, itemId, 3);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_STATE', heldQuantity: 2 });
    expect(res.errors?.[0]?.message).toContain('already holds 2');
    expect(await t.stockOf(itemId)).toBe(3);
  });

  it('a hold for more than the stock is INSUFFICIENT_STOCK and changes nothing', async () => {
    const itemId = await registerAs(t, { stock: 3 });
    const rid = randomUUID();
    const res = await hold(rid, itemId, 4);
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 3, requested: 4 });
    expect(await t.stockOf(itemId)).toBe(3);
    // Nothing was recorded either: the same reservation can still hold what is there.
    expect((await hold(rid, itemId, 3)).data?.holdStock.item.stock).toBe(0);
    // Zero stock: any hold is short.
    expect((await hold(randomUUID(), itemId, 1)).errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    expect(await t.stockOf(itemId)).toBe(0);
  });

  it.each(['65a1b2c3d4e5f60718293a4b', 'xyz'])('a hold on unknown item %j is NOT_FOUND', async (itemId) => {
    const res = await hold(randomUUID(), itemId, 1);
    expect(res.status).toBe(200);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.extensions).not.toHaveProperty('stacktrace');
  });

  it('releasing what was never held answers null and leaves the stock; the release is final: a hold arriving after it takes nothing', async () => {
    const itemId = await registerAs(t, { stock: 2 });
    const rid = randomUUID();
    const res = await release(rid, itemId);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ releaseStock: null });
    expect((await release(rid, itemId)).data).toEqual({ releaseStock: null });
    expect((await release(randomUUID(), '65a1b2c3d4e5f60718293a4b')).data).toEqual({ releaseStock: null });
    expect((await release(randomUUID(), 'xyz')).data).toEqual({ releaseStock: null });
    expect(await t.stockOf(itemId)).toBe(2);
    // The saga gave up on a hold (its connection broke) and released; the hold then lands.
    const late = await hold(rid, itemId, 2);
    expect(late.data?.holdStock).toMatchObject({ reservationId: rid, quantity: 2, released: true });
    expect(await t.stockOf(itemId)).toBe(2);
  });

  it('holds racing releases of the same reservations: once every release has answered, nothing is held and the stock is whole', async () => {
    const itemId = await registerAs(t, { stock: 100 });
    const rids = Array.from({ length: 60 }, () => randomUUID());
    // Each release starts a little before, with or a little after its hold.
    await Promise.all(
      rids.map(async (r, i) => {
        const h = new Promise((done) => setTimeout(done, i % 3)).then(() => hold(r, itemId, 1));
        const rel = new Promise((done) => setTimeout(done, 1 - (i % 3) + 1)).then(() => release(r, itemId));
        const [held, released] = await Promise.all([h, rel]);
        expect(held.errors).toBeUndefined();
        expect(released.errors).toBeUndefined();
      }),
    );
    const raw = await t.db.collection('items').findOne({ _id: new mongoose.Types.ObjectId(itemId) });
    expect(Object.keys((raw?.holds as Record<string, unknown> | undefined) ?? {})).toEqual([]);
    expect(raw?.stock).toBe(100);
  });

  it.each([
    ['quantity', { q: 0 }],
    ['quantity', { q: -2 }],
    ['quantity', { q: 1001 }],
    ['reservationId', { r: 'not-an-id' }],
    ['reservationId', { r: 'holds.$x' }],
  ])('bad %s → BAD_USER_INPUT, nothing changed', async (field, patch) => {
    const itemId = await registerAs(t, { stock: 4 });
    const res = await t.gql(HOLD, { r: randomUUID(), i: itemId, q: 1, ...patch }, as.service);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await t.stockOf(itemId)).toBe(4);
  });

  it('only a SERVICE identity may hold or release', async () => {
    const itemId = await registerAs(t, { stock: 4, storeId: 'store-S' });
    const rid = randomUUID();
    for (const [who, code] of [
      [as.staff('store-S'), 'FORBIDDEN'],
      [as.admin, 'FORBIDDEN'],
      [as.customer, 'FORBIDDEN'],
      [as.anonymous, 'UNAUTHENTICATED'],
    ] as const) {
      expect((await hold(rid, itemId, 1, who)).errors?.[0]?.extensions?.code).toBe(code);
    }
    expect(await t.stockOf(itemId)).toBe(4);
    await hold(rid, itemId, 1);
    expect((await release(rid, itemId, as.staff('store-S'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.stockOf(itemId)).toBe(3);
  });
});
