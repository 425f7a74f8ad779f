/**
 * `npm run bench [-- <name>…] [--connections N] [--duration S] [--warmup S] [--subscribers N]`
 *
 * Runs the named benchmarks (default: all) against one stack it starts and
 * stops itself (loopback only), prints each table, and writes
 * `bench/results/<name>-<date>.md|json` and `bench/results/latest.md`.
 */
import { parseArgs } from 'node:util';
import { benchEvents } from './events.js';
import { benchGateway } from './gateway.js';
import { benchReservations } from './reservations.js';
import { benchRouter } from './router.js';
import { benchSubscriptions } from './subscriptions.js';
import { gitSha, loadAverage, machine, textTable, writeLatest, writeResult, type BenchResult, type RunInfo } from './report.js';
import { BENCH_ENV, startStack, type Stack } from './stack.js';

const ALL = ['gateway', 'reservations', 'events', 'subscriptions', 'router'] as const;
/** Benchmarks that bring their own servers instead of the whole system. */
const STANDALONE: ReadonlySet<Name> = new Set(['router']);
type Name = (typeof ALL)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: 'string', default: '20' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '10,50' },
    rounds: { type: 'string', default: '2' },
    'round-duration': { type: 'string', default: '15' },
    stored: { type: 'string', default: '50000' },
    events: { type: 'string', default: '200' },
    'events-concurrency': { type: 'string', default: '4' },
    subscribers: { type: 'string', default: '1000' },
    routers: { type: 'string', default: '1' },
    'open-seconds': { type: 'string' },
    'load-threads': { type: 'string', default: '2' },
    'router-connections': { type: 'string', default: '50' },
    'router-duration': { type: 'string', default: '8' },
    'router-rounds': { type: 'string', default: '3' },
    targets: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`npm run bench [-- ${ALL.join('|')} …] [--connections 20] [--duration 10] [--warmup 2] [--targets router,plain-gateway,hive-gateway,hive-gateway-nodedupe,direct]
  [--concurrency 10,50] [--rounds 2] [--round-duration 15] [--stored 50000] [--events 200] [--events-concurrency 4] [--subscribers 1000]
  [--router-connections 50] [--router-duration 8] [--router-rounds 3] [--routers 2] [--open-seconds 10] [--load-threads 2]`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !ALL.includes(p as Name));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  process.exit(2);
}
const selected = (positionals.length ? positionals : [...ALL]) as Name[];
const int = (v: string | undefined, name: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
};

const runners: Record<Name, (stack: Stack) => Promise<BenchResult>> = {
  gateway: (stack) =>
    benchGateway(stack, {
      connections: int(values.connections, 'connections'),
      durationSec: int(values.duration, 'duration'),
      warmupSec: Number(values.warmup),
      ...(values.targets ? { targets: values.targets.split(',') } : {}),
    }),
  reservations: (stack) =>
    benchReservations(stack, {
      concurrencies: (values.concurrency ?? '10,50').split(',').map((c) => int(c, 'concurrency')),
      rounds: int(values.rounds, 'rounds'),
      durationSec: int(values['round-duration'], 'round-duration'),
      stored: Number(values.stored),
    }),
  events: (stack) => benchEvents(stack, { reservations: int(values.events, 'events'), concurrency: int(values['events-concurrency'], 'events-concurrency') }),
  subscriptions: (stack) =>
    benchSubscriptions(stack, {
      subscribers: int(values.subscribers, 'subscribers'),
      routers: int(values.routers, 'routers'),
      ...(values['open-seconds'] ? { openSeconds: int(values['open-seconds'], 'open-seconds') } : {}),
      threads: int(values['load-threads'], 'load-threads'),
    }),
  router: () =>
    benchRouter({
      connections: int(values['router-connections'], 'router-connections'),
      durationSec: int(values['router-duration'], 'router-duration'),
      warmupSec: Number(values.warmup),
      rounds: int(values['router-rounds'], 'router-rounds'),
    }),
};

const date = new Date().toISOString();
const info: RunInfo = { date, machine: machine(), gitSha: gitSha(), loadAverageBefore: loadAverage() };
console.log(`[bench] ${selected.join(', ')} on ${info.machine.cpus} cpus, Node ${info.machine.node}, load average ${info.loadAverageBefore.join(' ')}`);

let stack: Stack | undefined;
let exitCode = 0;
const stopOnSignal = () => void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);
const written: string[] = [];
try {
  // The whole system only when a selected benchmark measures it.
  if (selected.some((name) => !STANDALONE.has(name))) {
    stack = await startStack();
    info.servers = stack.servers;
    info.settings = `NODE_ENV=test (the harness's; production would rate-limit mutations to 120/min per caller), ${Object.entries(BENCH_ENV).map(([k, v]) => `${k}=${v}`).join(' ')} (npm start's default), every other setting npm start's, LOG_LEVEL=warn`;
  }
  for (const name of selected) {
    console.log(`\n[bench] ${name}`);
    const before = loadAverage();
    let result: BenchResult;
    try {
      result = await runners[name](stack as Stack);
    } catch (err) {
      exitCode = 1;
      console.error(`[bench] ${name} failed: ${(err as Error).stack ?? String(err)}`);
      continue;
    }
    const runInfo = { ...info, loadAverageBefore: before, loadAverageAfter: loadAverage() };
    console.log(`\n${result.title}\n`);
    for (const t of result.tables) console.log(`${t.title ? `${t.title}\n` : ''}${textTable(t)}\n`);
    for (const n of result.notes) console.log(`- ${n}`);
    written.push(await writeResult(result, runInfo));
    if (!result.ok) exitCode = 1;
  }
} catch (err) {
  exitCode = 1;
  console.error(`[bench] ${(err as Error).stack ?? String(err)}`);
} finally {
  await stack?.stop();
}
if (written.length) {
  writeLatest(written, { ...info, loadAverageAfter: loadAverage() });
  console.log('\n[bench] results written to bench/results/');
}
process.exit(exitCode);
