/**
 * Event latency, confirmation → store order: `reservations` customers each
 * reserve one unit (plenty of stock), `concurrency` at a time, through the
 * router. Per reservation, from server timestamps on the same machine clock:
 * - confirmed → order: the reservation's CONFIRMED history entry (written with
 *   the ReservationConfirmed event in its outbox) to the StoreOrder's
 *   `createdAt` (the stores worker handling the event): relay publish, BullMQ,
 *   consumer, write;
 * - answer → order: the client receiving createReservation's answer to the
 *   StoreOrder's `createdAt` (negative when the order was written before the
 *   answer arrived).
 */
import { latencyBins } from './charts.js';
import { ms, summarize, type BenchResult } from './report.js';
import { pool } from './load.js';
import { reserve, seedItem, seedStore, waitForOrders } from './seed.js';
import type { Stack } from './stack.js';

export interface EventsOptions {
  reservations: number;
  concurrency: number;
}

export async function benchEvents(stack: Stack, opts: EventsOptions): Promise<BenchResult> {
  const store = await seedStore(stack, 'events');
  const itemId = await seedItem(stack, store, opts.reservations + 10, 'Bench events camera');
  const tokens = await Promise.all(Array.from({ length: opts.reservations }, (_, i) => stack.token('CUSTOMER', `bench-events-${i}`)));
  const answered = new Map<string, number>();
  const failed: string[] = [];
  console.log(`[events] ${opts.reservations} reservations, concurrency ${opts.concurrency}…`);
  const started = performance.now();
  await pool(opts.reservations, opts.concurrency, async (i) => {
    try {
      const r = await reserve(stack, tokens[i] as string, itemId);
      answered.set(r.id, Date.now());
      if (r.status !== 'CONFIRMED') failed.push(`${r.id}: ${r.status}`);
    } catch (err) {
      failed.push((err as Error).message.slice(0, 200));
    }
  });
  const wallSec = (performance.now() - started) / 1000;
  const ids = [...answered.keys()];
  const orders = await waitForOrders(stack, store, ids);

  const db = await stack.db('reservations');
  const docs = await db
    .collection('reservations')
    .find({ _id: { $in: ids } } as never, { projection: { history: 1 } })
    .toArray();
  const confirmedAt = new Map<string, number>();
  for (const d of docs) {
    const entry = (d.history as Array<{ status: string; at: Date }> | undefined)?.find((h) => h.status === 'CONFIRMED');
    if (entry) confirmedAt.set(String(d._id), new Date(entry.at).getTime());
  }
  const confirmedToOrder: number[] = [];
  const answerToOrder: number[] = [];
  for (const id of ids) {
    const created = Date.parse(orders.get(id)?.createdAt ?? '');
    const c = confirmedAt.get(id);
    if (Number.isFinite(created) && c !== undefined) confirmedToOrder.push(created - c);
    if (Number.isFinite(created)) answerToOrder.push(created - (answered.get(id) as number));
  }
  const a = summarize(confirmedToOrder);
  const b = summarize(answerToOrder);
  const row = (label: string, s: ReturnType<typeof summarize>) => [label, s.count, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
  return {
    name: 'events',
    title: 'Event latency: confirmed reservation → store order',
    description:
      `${opts.reservations} reservations (1 unit each, distinct customers) through the router, ${opts.concurrency} at a time; for each, server timestamps (one machine clock): ` +
      'the CONFIRMED history entry in the reservations DB (written with the event in the outbox) → the StoreOrder createdAt (stores worker), and the client receiving the answer → StoreOrder createdAt.',
    parameters: { ...opts, outboxSweepMs: stack.env.OUTBOX_SWEEP_MS, workerConcurrency: stack.env.WORKER_CONCURRENCY ?? 'default (8)' },
    tables: [{ columns: ['interval', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], rows: [row('CONFIRMED history entry → StoreOrder created', a), row('answer received → StoreOrder created', b)] }],
    notes: [
      `reservations sent in ${wallSec.toFixed(1)} s (${(opts.reservations / wallSec).toFixed(1)}/s)`,
      ...(failed.length ? [`${failed.length} reservations not confirmed: ${failed.slice(0, 3).join('; ')}`] : []),
      'Timestamps have millisecond resolution; both come from this machine’s clock. The CONFIRMED entry’s `at` is taken by the saga when it issues the write, so a write queued in the database counts in the interval.',
    ],
    data: { confirmedToOrder: a, answerToOrder: b, wallSec, failed },
    charts: [
      {
        kind: 'latency-histogram',
        name: 'latency',
        title: 'Confirmed reservation → store order',
        series: [
          { target: 'CONFIRMED history entry → StoreOrder created', bins: latencyBins(confirmedToOrder) },
          { target: 'answer received → StoreOrder created', bins: latencyBins(answerToOrder) },
        ],
      },
    ],
    ok: failed.length === 0 && a.count === opts.reservations,
  };
}
