/**
 * `npm run bench -- reservations`: what one reservation costs, and how many
 * the system confirms per second, on an empty database and with a history.
 *
 * Per database size (0, then `--stored` reservations written straight into
 * the databases, as months of business would leave them):
 * 1. the database's own ceiling: conditional `updateOne`s by `_id` at
 *    concurrency 20 straight to the server (no service in between);
 * 2. the database tier's idle CPU (FerretDB + PostgreSQL, nothing asked);
 * 3. rounds of closed-loop load through the router, concurrency 10 and 50
 *    interleaved: each client is its own customer reserving 1 unit of an
 *    item of a catalog of {@link CATALOG_ITEMS} items with
 *    {@link CATALOG_STOCK} units each, again and again, going through the
 *    catalog (a shop's rush is spread over its items; one item with a
 *    million units would hold a million holds on one document, which no
 *    shop has: an item holds at most as many holds as its stock). After each round the pipeline
 *    is left to settle (every event handled: store orders and customer
 *    views written), then per confirmed reservation: CPU ms of every process
 *    of the system (router, subgraphs, workers, FerretDB, PostgreSQL, Redis;
 *    user + system time from /proc, not the load generator), the database
 *    commands FerretDB counted, and the rows PostgreSQL wrote.
 */
import { CpuMeter } from '../../test/support/cpu.js';
import { latencyBins } from './charts.js';
import { commandDelta, ferretdbCommands, postgresTableStats, statsDelta, type CommandDelta, type TableStats } from './db-counters.js';
import { httpClient } from './load.js';
import { median, ms, summarize, type BenchResult, type Table } from './report.js';
import { CREATE_RESERVATION, reservationInput, seedItem, seedStore } from './seed.js';
import type { Stack } from './stack.js';
import { seedHistory } from '../../test/support/history.js';
import { settle } from '../../test/support/settle.js';
import { sleep } from '../../infra/local/proc.js';

export interface ReservationsOptions {
  /** Seconds per measured round. */
  durationSec: number;
  /** Interleaved rounds per concurrency. */
  rounds: number;
  concurrencies: number[];
  /** Reservations written into the databases before the second half (0: skip it). */
  stored: number;
}

interface Round {
  stored: number;
  concurrency: number;
  round: number;
  confirmed: number;
  other: Record<string, number>;
  confirmedPerSec: number;
  p50: number;
  p99: number;
  cpuMsPerConfirmed: number;
  cpuByProcess: Record<string, number>;
  commands: CommandDelta;
  rows: TableStats | null;
  settleMs: number;
}

interface Ceiling {
  stored: number;
  updatesPerSec: number;
  dbCpuMsPerUpdate: number;
}

/** The catalog the rounds reserve from: enough units for every round of a run. */
export const CATALOG_ITEMS = 400;
export const CATALOG_STOCK = 50;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The database server's conditional-update ceiling: `updateOne({_id, n ≥ 0}, $inc)` at concurrency 20 for `seconds`. */
async function measureCeiling(stack: Stack, stored: number, seconds: number): Promise<Ceiling> {
  const conn = await stack.db('items');
  const coll = conn.db!.collection<{ _id: string; n: number }>('bench_ceiling');
  await coll.deleteMany({});
  await coll.insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: `d${i}`, n: 0 })));
  const db = stack.processes().filter((p) => p.name === 'ferretdb' || p.name === 'postgres');
  const meter = new CpuMeter(db);
  let done = 0;
  const end = Date.now() + seconds * 1000;
  meter.begin();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 20 }, async (_, k) => {
      for (let i = 0; Date.now() < end; i += 1) {
        await coll.updateOne({ _id: `d${(k * 10 + i) % 200}`, n: { $gte: 0 } }, { $inc: { n: 1 } });
        done += 1;
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const cpu = sum(meter.end().map((x) => x.cpuMs));
  await coll.drop();
  return { stored, updatesPerSec: done / wall, dbCpuMsPerUpdate: cpu / done };
}

async function idleDbCpu(stack: Stack, seconds: number): Promise<number> {
  const meter = new CpuMeter(stack.processes().filter((p) => p.name === 'ferretdb' || p.name === 'postgres'));
  meter.begin();
  await sleep(seconds * 1000);
  return sum(meter.end().map((x) => x.cpuMs)) / (seconds * 1000);
}

/** One closed-loop round: `concurrency` customers reserving back to back for `durationSec`, going through the catalog. */
async function runRound(stack: Stack, catalog: string[], tokens: string[], concurrency: number, durationSec: number) {
  const client = httpClient(concurrency);
  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const bodies = catalog.map((itemId) => JSON.stringify({ query: CREATE_RESERVATION, variables: { i: reservationInput(itemId) } }));
  let next = 0;
  const end = Date.now() + durationSec * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      const headers = { authorization: `Bearer ${tokens[c]}` };
      while (Date.now() < end) {
        const body = bodies[next++ % bodies.length]!;
        const t0 = performance.now();
        let outcome: string;
        try {
          const res = await client.post(stack.routerUrl, body, headers);
          const parsed = JSON.parse(res.text) as { data?: { createReservation?: { status: string } }; errors?: Array<{ extensions?: { code?: string } }> };
          outcome = parsed.data?.createReservation?.status ?? parsed.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`;
        } catch (err) {
          outcome = `network: ${(err as Error).message}`;
        }
        if (outcome === 'CONFIRMED') latencies.push(performance.now() - t0);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }),
  );
  const wallSec = (performance.now() - started) / 1000;
  client.close();
  return { latencies, outcomes, wallSec };
}

export async function benchReservations(stack: Stack, opts: ReservationsOptions): Promise<BenchResult> {
  const store = await seedStore(stack, 'resv');
  const maxConcurrency = Math.max(...opts.concurrencies);
  console.log(`[reservations] registering a catalog of ${CATALOG_ITEMS} items with ${CATALOG_STOCK} units each…`);
  const catalog: string[] = [];
  for (let i = 0; i < CATALOG_ITEMS; i += 1) catalog.push(await seedItem(stack, store, CATALOG_STOCK, `Bench item ${i}`));
  const tokens = await Promise.all(Array.from({ length: maxConcurrency }, (_, i) => stack.token('CUSTOMER', `bench-loop-${i}`)));
  const processes = stack.processes();
  const debugUrl = stack.mongo.debugUrl;
  const pgUrl = stack.mongo.postgres?.url;
  const rounds: Round[] = [];
  /** Confirmed reservations' latencies of every round, by database size and concurrency (for the histogram). */
  const latenciesBy = new Map<string, number[]>();
  const ceilings: Ceiling[] = [];
  const idle: Array<{ stored: number; dbCpuPct: number }> = [];
  const levels = opts.stored > 0 ? [0, opts.stored] : [0];

  // Warm-up (not measured): code paths, connections, and every catalog item once (the saga caches an item's name and store).
  await runRound(stack, catalog, tokens, 10, Math.max(3, Math.ceil(CATALOG_ITEMS / 30)));
  await settle(stack.harness);

  for (const stored of levels) {
    if (stored > 0) {
      console.log(`[reservations] writing ${stored} reservations of history straight into the databases…`);
      const t0 = performance.now();
      await seedHistory(stack.harness, { reservations: stored, itemId: catalog[0]!, storeId: store.storeId });
      console.log(`[reservations] history written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await sleep(15_000); // let autovacuum's ANALYZE see the new rows, as it would in a running system
    }
    ceilings.push(await measureCeiling(stack, stored, 5));
    idle.push({ stored, dbCpuPct: 100 * (await idleDbCpu(stack, 10)) });
    console.log(`[reservations] stored ${stored}: ceiling ${ceilings.at(-1)!.updatesPerSec.toFixed(0)} updates/s; idle database tier ${idle.at(-1)!.dbCpuPct.toFixed(1)} % of a core`);
    for (let round = 1; round <= opts.rounds; round += 1) {
      for (const concurrency of opts.concurrencies) {
        const meter = new CpuMeter(processes);
        const commandsBefore = debugUrl ? await ferretdbCommands(debugUrl) : undefined;
        const rowsBefore = pgUrl ? await postgresTableStats(pgUrl, stack.harness.dbPrefix) : undefined;
        meter.begin();
        const r = await runRound(stack, catalog, tokens, concurrency, opts.durationSec);
        const settleStarted = performance.now();
        await settle(stack.harness);
        const settleMs = performance.now() - settleStarted;
        const cpu = meter.end();
        const commands = debugUrl ? commandDelta(commandsBefore!, await ferretdbCommands(debugUrl)) : { writes: NaN, finds: NaN, byCommand: {} };
        // PostgreSQL reports table statistics lazily (≤ ~10 s after a backend goes idle).
        const rows = pgUrl ? (await sleep(11_000), statsDelta(rowsBefore!, await postgresTableStats(pgUrl, stack.harness.dbPrefix))) : null;
        const confirmed = r.outcomes.get('CONFIRMED') ?? 0;
        const s = summarize(r.latencies);
        const key = `${stored.toLocaleString('en')} stored, c${concurrency}`;
        latenciesBy.set(key, [...(latenciesBy.get(key) ?? []), ...r.latencies]);
        const entry: Round = {
          stored,
          concurrency,
          round,
          confirmed,
          other: Object.fromEntries([...r.outcomes].filter(([k]) => k !== 'CONFIRMED')),
          confirmedPerSec: confirmed / r.wallSec,
          p50: s.p50,
          p99: s.p99,
          cpuMsPerConfirmed: sum(cpu.map((c) => c.cpuMs)) / confirmed,
          cpuByProcess: Object.fromEntries(cpu.map((c) => [c.name, c.cpuMs / confirmed])),
          commands,
          rows,
          settleMs,
        };
        rounds.push(entry);
        console.log(
          `[reservations] stored ${stored}, c${concurrency} round ${round}: ${entry.confirmedPerSec.toFixed(1)} confirmed/s, p50 ${ms(s.p50)} ms, ` +
            `${entry.cpuMsPerConfirmed.toFixed(1)} CPU ms/reservation, ${(commands.writes / confirmed).toFixed(2)} writes + ${(commands.finds / confirmed).toFixed(2)} finds/reservation`,
        );
      }
    }
  }

  const per = (r: Round, n: number) => (r.confirmed ? n / r.confirmed : NaN);
  const summaryRows: Table['rows'] = [];
  for (const stored of levels) {
    for (const concurrency of opts.concurrencies) {
      const rs = rounds.filter((r) => r.stored === stored && r.concurrency === concurrency);
      summaryRows.push([
        stored.toLocaleString('en'),
        concurrency,
        median(rs.map((r) => r.confirmedPerSec)).toFixed(1),
        ms(median(rs.map((r) => r.p50))),
        ms(median(rs.map((r) => r.p99))),
        median(rs.map((r) => r.cpuMsPerConfirmed)).toFixed(1),
        median(rs.map((r) => per(r, r.commands.writes))).toFixed(2),
        median(rs.map((r) => per(r, r.commands.finds))).toFixed(2),
        rs[0]?.rows ? median(rs.map((r) => per(r, r.rows!.inserted + r.rows!.updated + r.rows!.deleted))).toFixed(2) : '–',
        rs.map((r) => Object.entries(r.other).map(([k, n]) => `${k} ${n}`).join(' ')).filter(Boolean).join('; ') || '0',
      ]);
    }
  }
  const processNames = processes.map((p) => p.name);
  const cpuRows: Table['rows'] = [];
  for (const stored of levels) {
    for (const concurrency of opts.concurrencies) {
      const rs = rounds.filter((r) => r.stored === stored && r.concurrency === concurrency);
      cpuRows.push([`${stored.toLocaleString('en')} / c${concurrency}`, ...processNames.map((n) => median(rs.map((r) => r.cpuByProcess[n] ?? 0)).toFixed(2))]);
    }
  }
  const commandNames = [...new Set(rounds.flatMap((r) => Object.keys(r.commands.byCommand)))].sort();
  const commandRows: Table['rows'] = [];
  for (const stored of levels) {
    for (const concurrency of opts.concurrencies) {
      const rs = rounds.filter((r) => r.stored === stored && r.concurrency === concurrency);
      commandRows.push([`${stored.toLocaleString('en')} / c${concurrency}`, ...commandNames.map((c) => median(rs.map((r) => per(r, r.commands.byCommand[c] ?? 0))).toFixed(2))]);
    }
  }
  const ratioRows: Table['rows'] = [];
  if (levels.length === 2) {
    for (const concurrency of opts.concurrencies) {
      const at = (stored: number, f: (r: Round) => number) => median(rounds.filter((r) => r.stored === stored && r.concurrency === concurrency).map(f));
      const ratio = (f: (r: Round) => number) => (at(opts.stored, f) / at(0, f)).toFixed(2);
      ratioRows.push([concurrency, ratio((r) => r.confirmedPerSec), ratio((r) => r.p50), ratio((r) => r.cpuMsPerConfirmed)]);
    }
  }
  const targetC = Math.max(...opts.concurrencies);
  const atTarget = rounds.filter((r) => r.stored === 0 && r.concurrency === targetC);
  return {
    name: 'reservations',
    title: 'Reservations: throughput and cost per reservation, empty and with history',
    description:
      `Closed loop through the router: each client is its own customer reserving 1 unit (3 days, tok_approve), back to back, of the items of a catalog of ${CATALOG_ITEMS} items with ${CATALOG_STOCK} units each in turn, ` +
      `${opts.durationSec} s per round, concurrency ${opts.concurrencies.join(' and ')} interleaved, ${opts.rounds} rounds each (medians shown). ` +
      'After each round the event pipeline settles (store orders and customer views written) before the counters are read, so the asynchronous work is included. ' +
      'CPU is user + system time from /proc of every process of the system (router, 4 subgraphs, 3 workers, FerretDB, PostgreSQL with its backends, Redis), not of the load generator. ' +
      'Database commands are FerretDB\'s own counters (/debug/metrics); rows are PostgreSQL\'s (n_tup_ins + n_tup_upd + n_tup_del). Background sweeps during a round count too. ' +
      (opts.stored > 0 ? `Then ${opts.stored.toLocaleString('en')} reservations of history (returned, with their views, store orders, rentals and stock releases) are written straight into the databases and everything is measured again.` : ''),
    parameters: { ...opts },
    tables: [
      {
        columns: ['stored', 'concurrency', 'confirmed/s', 'p50 ms', 'p99 ms', 'CPU ms / reservation', 'DB writes / reservation', 'DB finds / reservation', 'rows written / reservation', 'other answers'],
        rows: summaryRows,
      },
      {
        title: 'The database\'s own ceiling and idle cost',
        columns: ['stored', 'conditional updates/s (c20)', 'DB CPU ms / update', 'idle DB tier CPU (% of one core)'],
        rows: levels.map((stored, i) => [stored.toLocaleString('en'), ceilings[i]!.updatesPerSec.toFixed(0), ceilings[i]!.dbCpuMsPerUpdate.toFixed(2), idle[i]!.dbCpuPct.toFixed(1)]),
      },
      { title: 'CPU ms per reservation by process (medians)', columns: ['stored / concurrency', ...processNames], rows: cpuRows },
      { title: 'Database commands per reservation (FerretDB counters, medians)', columns: ['stored / concurrency', ...commandNames], rows: commandRows },
      ...(ratioRows.length
        ? [{ title: `With ${opts.stored.toLocaleString('en')} stored ÷ empty (same run)`, columns: ['concurrency', 'confirmed/s', 'p50', 'CPU / reservation'], rows: ratioRows }]
        : []),
    ],
    notes: [
      `targets (issue 10): ≥ 60 confirmed/s at concurrency 50, ≤ 30 CPU ms per reservation, ≤ 8 writes and ≤ 4 finds per reservation; measured at concurrency ${targetC} on the empty database: ` +
        `${median(atTarget.map((r) => r.confirmedPerSec)).toFixed(1)} confirmed/s, ${median(atTarget.map((r) => r.cpuMsPerConfirmed)).toFixed(1)} CPU ms, ` +
        `${median(atTarget.map((r) => per(r, r.commands.writes))).toFixed(2)} writes, ${median(atTarget.map((r) => per(r, r.commands.finds))).toFixed(2)} finds`,
      'The load generator shares the machine: its own CPU is not counted, but it competes for the same 2 cores.',
    ],
    data: { rounds, ceilings, idle },
    charts: [
      {
        kind: 'latency-histogram',
        name: 'latency',
        title: 'createReservation → CONFIRMED latency, every round',
        series: [...latenciesBy].map(([target, latencies]) => ({ target, bins: latencyBins(latencies) })),
      },
      {
        kind: 'throughput',
        name: 'throughput',
        title: 'Confirmed reservations per second against concurrency (medians over rounds)',
        unit: 'confirmed reservations/s',
        points: levels.flatMap((stored) =>
          opts.concurrencies.map((concurrency) => ({
            target: `${stored.toLocaleString('en')} stored`,
            concurrency,
            perSecond: median(rounds.filter((r) => r.stored === stored && r.concurrency === concurrency).map((r) => r.confirmedPerSec)),
          })),
        ),
      },
    ],
    ok: rounds.every((r) => r.confirmed > 0),
  };
}
