/**
 * Reservation throughput through the router: `requests` customers (one each)
 * reserve one unit of one item with `stock` units, `concurrency` at a time.
 * Afterwards the outcome is checked: exactly `stock` CONFIRMED, the rest
 * refused with INSUFFICIENT_STOCK, stock 0 (never negative), no PENDING left.
 */
import { Types } from 'mongoose';
import { ms, summarize, type BenchResult } from './report.js';
import { CREATE_RESERVATION, reservationInput, seedItem, seedStore } from './seed.js';
import type { Stack } from './stack.js';

export interface ReservationsOptions {
  requests: number;
  stock: number;
  concurrency: number;
}

/** Runs `fn(i)` for i in 0..n-1 with at most `concurrency` at once. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export async function benchReservations(stack: Stack, opts: ReservationsOptions): Promise<BenchResult> {
  const store = await seedStore(stack, 'resv');
  const itemId = await seedItem(stack, store, opts.stock, 'Bench contended camera');
  const tokens = await Promise.all(Array.from({ length: opts.requests }, (_, i) => stack.token('CUSTOMER', `bench-resv-${i}`)));

  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const confirmedIds: string[] = [];
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  console.log(`[reservations] ${opts.requests} reservations of 1 unit, stock ${opts.stock}, concurrency ${opts.concurrency}…`);
  const started = performance.now();
  await pool(opts.requests, opts.concurrency, async (i) => {
    const t0 = performance.now();
    try {
      const res = await stack.gql<{ createReservation: { id: string; status: string } }>(CREATE_RESERVATION, { i: reservationInput(itemId) }, tokens[i]);
      latencies.push(performance.now() - t0);
      const r = res.data?.createReservation;
      if (r) {
        count(r.status);
        if (r.status === 'CONFIRMED') confirmedIds.push(r.id);
      } else count(String(res.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`));
    } catch (err) {
      latencies.push(performance.now() - t0);
      count(`network: ${(err as Error).message}`);
    }
  });
  const wallSec = (performance.now() - started) / 1000;

  // Correctness, from the API and from the databases.
  const item = await stack.gql<{ item: { stock: number } }>('query($id: ID!) { item(id: $id) { stock } }', { id: itemId });
  const apiStock = item.data?.item.stock;
  const itemsDb = await stack.db('items');
  const itemDoc = (await itemsDb.collection('items').findOne({ _id: new Types.ObjectId(itemId) } as never).catch(() => null)) as { stock?: number } | null;
  const resvDb = await stack.db('reservations');
  const byStatus = new Map<string, number>();
  for (const d of await resvDb.collection('reservations').find({ itemId }, { projection: { status: 1 } }).toArray()) {
    byStatus.set(String(d.status), (byStatus.get(String(d.status)) ?? 0) + 1);
  }
  const confirmed = outcomes.get('CONFIRMED') ?? 0;
  const checks = [
    { check: `exactly ${opts.stock} CONFIRMED answers`, ok: confirmed === opts.stock, seen: String(confirmed) },
    { check: `exactly ${opts.stock} CONFIRMED in the reservations DB`, ok: (byStatus.get('CONFIRMED') ?? 0) === opts.stock, seen: String(byStatus.get('CONFIRMED') ?? 0) },
    { check: 'stock 0 through the router', ok: apiStock === 0, seen: String(apiStock) },
    { check: 'stock never negative (items DB)', ok: itemDoc?.stock !== undefined ? itemDoc.stock >= 0 : apiStock !== undefined && apiStock >= 0, seen: String(itemDoc?.stock ?? apiStock) },
    {
      check: `stock conserved: CONFIRMED + stock = ${opts.stock}`,
      ok: (byStatus.get('CONFIRMED') ?? 0) + (apiStock ?? NaN) === opts.stock,
      seen: `${byStatus.get('CONFIRMED') ?? 0} + ${apiStock}`,
    },
    { check: 'no PENDING left', ok: (byStatus.get('PENDING') ?? 0) === 0, seen: String(byStatus.get('PENDING') ?? 0) },
    {
      check: `the other ${opts.requests - opts.stock} refused with INSUFFICIENT_STOCK`,
      ok: (outcomes.get('INSUFFICIENT_STOCK') ?? 0) === opts.requests - opts.stock,
      seen: String(outcomes.get('INSUFFICIENT_STOCK') ?? 0),
    },
  ];
  const s = summarize(latencies);
  const allOk = checks.every((c) => c.ok);
  return {
    name: 'reservations',
    title: 'Reservation throughput through the router (contended stock)',
    description:
      `${opts.requests} customers each call createReservation (1 unit, 3 days, tok_approve) for one item with stock ${opts.stock}, ${opts.concurrency} requests in flight, through the router ` +
      '(saga: insert PENDING → holdStock on items → chargePayment on rentals → CONFIRMED). Refusals (INSUFFICIENT_STOCK, REJECTED) are answers too and count in answers/s. Checked afterwards through the API and the databases.',
    parameters: { ...opts },
    tables: [
      {
        columns: ['requests', 'answers/s', 'confirmed/s', 'p50 ms', 'p99 ms', 'max ms', 'outcomes'],
        rows: [
          [
            opts.requests,
            (opts.requests / wallSec).toFixed(1),
            (confirmed / wallSec).toFixed(1),
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            [...outcomes].map(([k, n]) => `${k} ${n}`).join(', '),
          ],
        ],
      },
      { title: 'Correctness', columns: ['check', 'result', 'seen'], rows: checks.map((c) => [c.check, c.ok ? 'ok' : 'FAILED', c.seen]) },
    ],
    notes: [`wall time ${wallSec.toFixed(1)} s`, `reservations DB statuses for the item: ${[...byStatus].map(([k, n]) => `${k} ${n}`).join(', ')}`],
    data: { wallSec, latency: s, outcomes: Object.fromEntries(outcomes), checks, byStatus: Object.fromEntries(byStatus) },
    ok: allOk,
  };
}
