/**
 * A year of data (issue 10): with 50,000 reservations already stored, written
 * straight into the databases (each with its view, store order, rental and
 * stock release: test/support/history.ts), the system costs what it costs
 * empty:
 *
 * - `createReservation` and `myReservations` answer within 1.5× of their
 *   latencies on an empty database. Both systems run side by side on one
 *   database tier, and the samples are interleaved (empty, full, empty, …),
 *   so load from other programs on the machine falls on both alike.
 * - The database tier (FerretDB and its PostgreSQL) idles under 5% of one
 *   core while both systems run their periodic sweeps on npm start's
 *   settings: no sweep reads the history.
 *
 * The database tier is this file's own (FerretDB on a PostgreSQL cluster of
 * its own), so its CPU is this file's alone.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CpuMeter } from '../support/cpu.js';
import { startLocalFerretDb, type MongoServer } from '../../infra/local/mongo.js';
import { dataPath } from '../../infra/local/paths.js';
import { seedHistory } from '../support/history.js';
import { settle } from '../support/settle.js';
import { day, startStack, type Stack } from '../support/stack.js';

const HISTORY = 50_000;
const SAMPLES = 15;

let dir: string;
let db: MongoServer;
let empty: Stack;
let full: Stack;

/** npm start's defaults where the harness has its own (it sweeps outboxes every 500 ms for its other tests). */
const NPM_START = { OUTBOX_SWEEP_MS: '5000' };

interface Shop {
  stack: Stack;
  itemId: string;
  customer: string;
}

async function openShop(stack: Stack): Promise<Shop> {
  const admin = await stack.tokens.admin();
  const storeId = `growth-${Math.random().toString(36).slice(2, 8)}`;
  await stack.gql(admin, 'mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }', { i: { id: storeId, name: 'Growth store', city: 'Growth' } });
  const staff = await stack.tokens.staff(storeId);
  const item = await stack.gql<{ registerItem: { id: string } }>(staff, 'mutation($i: RegisterItemInput!) { registerItem(input: $i) { id } }', {
    i: { storeId, name: 'Camera', category: 'camera', dailyRate: 2500, stock: 1_000 },
  });
  return { stack, itemId: item.data!.registerItem.id, customer: await stack.tokens.customer(`growth-${storeId}`) };
}

async function timed(fn: () => Promise<{ errors?: unknown }>): Promise<number> {
  const t0 = performance.now();
  const res = await fn();
  expect(res.errors).toBeUndefined();
  return performance.now() - t0;
}

const reserve = (s: Shop) =>
  timed(() =>
    s.stack.gql(s.customer, 'mutation($i: CreateReservationInput!) { createReservation(input: $i) { id status } }', {
      i: { itemId: s.itemId, quantity: 1, startDate: day(20), endDate: day(22), paymentToken: 'tok_approve' },
    }),
  );
const list = (s: Shop) => timed(() => s.stack.gql(s.customer, '{ myReservations(first: 20) { totalCount edges { node { id status item { id } } } } }'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

beforeAll(async () => {
  fs.mkdirSync(dataPath(), { recursive: true });
  dir = fs.mkdtempSync(dataPath('growth-'));
  db = await startLocalFerretDb({ dataDir: dir });
  empty = await startStack({ tag: 'growth_empty', mongoUri: db.uri, env: { all: NPM_START } });
  full = await startStack({ tag: 'growth_full', mongoUri: db.uri, env: { all: NPM_START } });
  const t0 = performance.now();
  const shop = await openShop(full);
  await seedHistory(full, { reservations: HISTORY, itemId: shop.itemId, storeId: 'growth-history' });
  // What autovacuum does within a minute of such a load: statistics, so the planner knows the tables' sizes.
  const admin = new pg.Client({ connectionString: db.postgres!.url });
  await admin.connect();
  await admin.query('VACUUM ANALYZE');
  await admin.end();
  console.log(`[growth] ${HISTORY} reservations written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  await full?.stop();
  await empty?.stop();
  await db?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe(`with ${HISTORY.toLocaleString('en')} reservations stored`, () => {
  it('createReservation and myReservations answer within 1.5× of an empty database (interleaved samples, medians)', { timeout: 180_000 }, async () => {
    const shops = { empty: await openShop(empty), full: await openShop(full) };
    // Warm-up: connections, caches, query plans.
    for (const s of [shops.empty, shops.full]) for (let i = 0; i < 3; i += 1) await reserve(s).then(() => list(s));
    const samples = { empty: { reserve: [] as number[], list: [] as number[] }, full: { reserve: [] as number[], list: [] as number[] } };
    for (let i = 0; i < SAMPLES; i += 1) {
      const order = i % 2 ? (['full', 'empty'] as const) : (['empty', 'full'] as const);
      for (const k of order) samples[k].reserve.push(await reserve(shops[k]));
      for (const k of order) samples[k].list.push(await list(shops[k]));
    }
    const m = {
      reserve: { empty: median(samples.empty.reserve), full: median(samples.full.reserve) },
      list: { empty: median(samples.empty.list), full: median(samples.full.list) },
    };
    console.log(
      `[growth] createReservation median ${m.reserve.empty.toFixed(1)} ms empty, ${m.reserve.full.toFixed(1)} ms with history ` +
        `(×${(m.reserve.full / m.reserve.empty).toFixed(2)}); myReservations ${m.list.empty.toFixed(1)} / ${m.list.full.toFixed(1)} ms ` +
        `(×${(m.list.full / m.list.empty).toFixed(2)})`,
    );
    expect(m.reserve.full).toBeLessThanOrEqual(1.5 * m.reserve.empty);
    expect(m.list.full).toBeLessThanOrEqual(1.5 * m.list.empty);
  });

  it('the database tier idles under 5% of one core while both systems run their sweeps', { timeout: 60_000 }, async () => {
    await settle(empty);
    await settle(full);
    const meter = new CpuMeter(db.processes.map((p) => ({ name: p.name, pid: p.pid })));
    meter.begin();
    await new Promise((r) => setTimeout(r, 12_000)); // more than two sweep periods of every sweep (5 s)
    const used = meter.end();
    const share = used.reduce((n, p) => n + p.cpuMs, 0) / 12_000;
    console.log(`[growth] idle database tier: ${(100 * share).toFixed(2)} % of one core (${used.map((p) => `${p.name} ${p.cpuMs.toFixed(0)} ms`).join(', ')})`);
    expect(share).toBeLessThan(0.05);
  });
});
