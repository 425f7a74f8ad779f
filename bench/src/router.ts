/**
 * The router alone (`npm run bench -- router`): what a request costs the
 * gateway process, ours beside plain `@apollo/gateway` and
 * `@graphql-hive/gateway`, on in-memory subgraphs shaped like ours
 * (servers/memory-subgraphs.ts: no database, one child process for all four).
 *
 * - Our router runs as production runs it: the esbuild bundle
 *   (`router/dist/main.js`, built at the start of the run), `node
 *   --enable-source-maps`, `NODE_ENV=production` and every default (JWT
 *   verification of an HS256 caller token, operation limits, metrics, access
 *   log at `info`, in-flight deduplication of identical subgraph queries);
 *   no Redis, so the mutation rate limit is off (queries only here). It runs
 *   a second time with `SUBGRAPH_DEDUPE=false`, to show what the rest of it
 *   costs. The peers run with their defaults (servers/plain-gateway.ts and
 *   servers/hive-gateway.ts without an identity to forward).
 * - Two queries: one reservation across the four subgraphs, and a list of 20
 *   (the same 5 fetches, 20 entities each).
 * - Per query: a warm-up per target, then `rounds` rounds in which every
 *   target gets `durationSec` of autocannon load (`connections` keep-alive
 *   connections) in turn, interleaved, so a change in the machine's load hits
 *   every target alike. Every answer must equal the first target's (a
 *   differing body is an error).
 * - CPU per request: the gateway process's user + system time from /proc
 *   over the round, divided by the requests answered in it. Medians over
 *   rounds; ratios against plain `@apollo/gateway` from the same rounds.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import autocannon from 'autocannon';
import { parse } from 'graphql';
import { signUserToken } from '@rental/auth';
import { freePort } from '../../infra/local/ports.js';
import { REPO_ROOT } from '../../infra/local/paths.js';
import { ServerProcess } from '../../infra/local/proc.js';
import { treeCpuMs } from '../../test/support/cpu.js';
import { median, ms, type BenchResult } from './report.js';
import { answerCounts, autocannonSampled } from './load.js';
import { latencyBins, type Chart } from './charts.js';
import { MEMORY_SUBGRAPH_SDL } from './servers/memory-subgraphs.js';

export interface RouterBenchOptions {
  connections: number;
  durationSec: number;
  warmupSec: number;
  rounds: number;
}

const SELECTION = 'status item { name stock store { name } } storeOrder { status } rental { status payment { amount } }';

/** The two queries, by label. */
export const ROUTER_QUERIES = {
  'one reservation across four subgraphs': `query One { reservation(id: "r7") { ${SELECTION} } }`,
  'a list of 20 across four subgraphs': `query List { myReservations(first: 20) { ${SELECTION} } }`,
} as const;

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  proc: ServerProcess;
}

interface Round {
  requestsPerSec: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  errors: number;
  total: number;
  /** Each answer's latency (ms), for the histogram; left out of the JSON's figures. */
  samples: number[];
}

async function waitReady(proc: ServerProcess, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !proc.hasExited) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start:\n${proc.lastOutput()}`);
}

async function post(target: Target, body: string): Promise<string> {
  const res = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${target.name}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** One autocannon run against a target, with the CPU its process tree used. */
async function measure(target: Target, body: string, expectBody: string, connections: number, durationSec: number): Promise<Round> {
  const pid = target.proc.child.pid as number;
  const [cpuBefore] = treeCpuMs([pid]);
  const { result: r, samples } = await autocannonSampled({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body,
    connections,
    duration: durationSec,
    expectBody,
  });
  const [cpuAfter] = treeCpuMs([pid]);
  const { ok: answered, errors } = answerCounts(r);
  return {
    requestsPerSec: answered / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuMsPerRequest: answered > 0 ? ((cpuAfter as number) - (cpuBefore as number)) / answered : Number.NaN,
    errors,
    total: answered + errors,
    samples,
  };
}

/** Builds the router's production bundle (router/dist/main.js), as its image build does. */
function buildRouterBundle(): string {
  execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'infra/build/bundle.ts')], {
    cwd: path.join(REPO_ROOT, 'router'),
    stdio: 'inherit',
  });
  return path.join(REPO_ROOT, 'router/dist/main.js');
}

export async function benchRouter(opts: RouterBenchOptions): Promise<BenchResult> {
  const say = (line: string) => console.log(`[router] ${line}`);
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, '.data', 'bench-router-'));
  const procs: ServerProcess[] = [];
  const spawn = (name: string, args: string[], env: Record<string, string>) => {
    const p = new ServerProcess(name, process.execPath, args, path.join(dir, `${name}.log`), {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    procs.push(p);
    return p;
  };
  try {
    say('building the router bundle…');
    const bundle = buildRouterBundle();

    const names = Object.keys(MEMORY_SUBGRAPH_SDL);
    const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const)));
    const subgraphs = spawn('memory-subgraphs', ['--import', 'tsx', 'bench/src/servers/memory-subgraphs.ts'], { BENCH_PORTS: JSON.stringify(ports) });
    await waitReady(subgraphs, async () => subgraphs.lastOutput().includes('ready'), 'the in-memory subgraphs');
    const composed = composeServices(
      names.map((name) => ({ name, url: `http://127.0.0.1:${ports[name]}/graphql`, typeDefs: parse(MEMORY_SUBGRAPH_SDL[name] as string) })),
    );
    if (composed.errors) throw new Error(composed.errors.map(String).join('\n'));
    const supergraph = path.join(dir, 'supergraph.graphql');
    fs.writeFileSync(supergraph, composed.supergraphSdl);

    const secret = 'bench-router-user-secret-0123456789abcdef';
    const customer = await signUserToken({ sub: 'bench-customer', role: 'CUSTOMER' }, { secret, expiresIn: '2h' });
    const ours = (dedupe: boolean) => ({
      NODE_ENV: 'production',
      ALLOW_HS256_IN_PRODUCTION: 'true',
      JWT_SECRET: secret,
      INTERNAL_JWT_SECRET: 'bench-router-internal-secret-0123456789ab',
      SUPERGRAPH_PATH: supergraph,
      SUBGRAPH_DEDUPE: String(dedupe),
    });
    // BENCH_ROUTER_NODE_ARGS: extra Node options for our router only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    const routerArgs = [...(process.env.BENCH_ROUTER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--enable-source-maps', bundle];
    // BENCH_PEER_NODE_ARGS: the same for the two peers.
    const peerArgs = process.env.BENCH_PEER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const bearer = { authorization: `Bearer ${customer}` };
    const start = async (name: string, args: string[], env: Record<string, string>, headers: Record<string, string> = {}): Promise<Target> => {
      const port = await freePort();
      const proc = spawn(name, args, { ...env, ROUTER_PORT: String(port), BENCH_PORT: String(port), BENCH_SUPERGRAPH: supergraph });
      const target = { name, url: `http://127.0.0.1:${port}/graphql`, headers, proc };
      const probe = JSON.stringify({ query: '{ __typename }' });
      await waitReady(proc, async () => (await post(target, probe)).includes('Query'), name);
      return target;
    };
    say('starting the gateways…');
    const targets: Target[] = [
      await start('our router', routerArgs, ours(true), bearer),
      // The same router without its in-flight deduplication: what the rest of it costs.
      await start('our router, SUBGRAPH_DEDUPE=false', routerArgs, ours(false), bearer),
      await start('plain @apollo/gateway 2.14.4', [...peerArgs, '--import', 'tsx', 'bench/src/servers/plain-gateway.ts'], { NODE_ENV: 'production' }),
      await start('@graphql-hive/gateway 2.15.1', [...peerArgs, '--import', 'tsx', 'bench/src/servers/hive-gateway.ts'], { NODE_ENV: 'production' }),
    ];

    const rows: Array<Array<string | number>> = [];
    const ratioRows: Array<Array<string | number>> = [];
    const figures: Record<string, Record<string, Round[]>> = {};
    const charts: Chart[] = [];
    const notes: string[] = [];
    for (const [label, query] of Object.entries(ROUTER_QUERIES)) {
      const body = JSON.stringify({ query });
      const expected = await post(targets[0] as Target, body);
      if (expected.includes('"errors"')) throw new Error(`${label}: our router answered with errors: ${expected.slice(0, 300)}`);
      for (const t of targets) {
        const text = await post(t, body);
        if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(JSON.parse(expected))) {
          throw new Error(`${label}: ${t.name} answered differently: ${text.slice(0, 300)}`);
        }
      }
      const byTarget: Record<string, Round[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
      const bodies = new Map<string, string>();
      for (const t of targets) {
        say(`${label}: warm-up ${t.name}…`);
        // Each target's own serialization of the same answer is what autocannon expects of it.
        bodies.set(t.name, await post(t, body));
        await autocannon({ url: t.url, method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body, connections: opts.connections, duration: opts.warmupSec });
      }
      for (let round = 1; round <= opts.rounds; round++) {
        for (const t of targets) {
          const r = await measure(t, body, bodies.get(t.name) as string, opts.connections, opts.durationSec);
          byTarget[t.name]?.push(r);
          say(`${label}, round ${round}: ${t.name} ${r.requestsPerSec.toFixed(0)} req/s, p99 ${ms(r.p99)} ms, ${r.cpuMsPerRequest.toFixed(2)} CPU ms/request, ${r.errors} errors`);
        }
      }
      figures[label] = byTarget;
      charts.push({
        kind: 'latency-histogram',
        name: `latency-${charts.length + 1}`,
        title: `${label}: answer latency per target, every round`,
        series: targets.map((t) => ({ target: t.name, bins: latencyBins((byTarget[t.name] as Round[]).flatMap((r) => r.samples)) })),
      });
      const plainName = targets[2]?.name as string;
      for (const t of targets) {
        const rounds = byTarget[t.name] as Round[];
        const errors = rounds.reduce((s, r) => s + r.errors, 0);
        const total = rounds.reduce((s, r) => s + r.total, 0);
        rows.push([
          label,
          t.name,
          median(rounds.map((r) => r.requestsPerSec)).toFixed(0),
          ms(median(rounds.map((r) => r.p50))),
          ms(median(rounds.map((r) => r.p99))),
          median(rounds.map((r) => r.cpuMsPerRequest)).toFixed(2),
          `${errors} / ${total}`,
        ]);
      }
      // Ratios per round (the same round's plain gateway), then their median.
      const plain = byTarget[plainName] as Round[];
      for (const t of targets.filter((x) => x.name !== plainName)) {
        const mine = byTarget[t.name] as Round[];
        const ratio = (f: (r: Round) => number) => median(mine.map((r, i) => f(r) / f(plain[i] as Round))).toFixed(2);
        ratioRows.push([label, t.name, ratio((r) => r.cpuMsPerRequest), ratio((r) => r.requestsPerSec), ratio((r) => r.p99)]);
      }
    }

    notes.push(
      `Targets run one at a time, interleaved: ${opts.rounds} rounds of ${opts.durationSec} s each per target and query, ${opts.connections} connections, after a ${opts.warmupSec} s warm-up; medians over rounds.`,
      'CPU per request is the gateway process\'s user + system time (/proc) over the round ÷ requests answered; the in-memory subgraphs (one process) and the load generator are not counted, but share the same cores.',
      `The gateways, the subgraphs and autocannon share this machine's ${os.cpus().length} cores: compare targets within this run, not with other machines.`,
    );
    return {
      name: 'router',
      title: 'Router alone: CPU per request beside plain @apollo/gateway and @graphql-hive/gateway',
      description:
        'autocannon (HTTP/1.1 keep-alive POST) through each gateway to four in-memory subgraphs shaped like ours (no database): one reservation with its item, store, store order and rental (5 subgraph fetches, 3 deep), and a list of 20 of them. ' +
        'Our router is the production bundle with NODE_ENV=production defaults (JWT verification, limits, metrics, access log); the peers run with their defaults.',
      parameters: { ...opts, queries: ROUTER_QUERIES },
      tables: [
        { title: 'Per target (medians over rounds)', columns: ['query', 'target', 'requests/s', 'p50 ms', 'p99 ms', 'CPU ms / request', 'errors / requests'], rows },
        { title: 'Against plain @apollo/gateway, same rounds (median of per-round ratios)', columns: ['query', 'target', 'CPU / request', 'requests/s', 'p99'], rows: ratioRows },
      ],
      notes,
      data: { figures: Object.fromEntries(Object.entries(figures).map(([q, byT]) => [q, Object.fromEntries(Object.entries(byT).map(([t, rs]) => [t, rs.map(({ samples: _s, ...r }) => r)]))])) },
      charts,
      ok: true,
    };
  } finally {
    await Promise.all(procs.reverse().map((p) => p.stop(10_000)));
    if (!process.env.BENCH_KEEP_LOGS) fs.rmSync(dir, { recursive: true, force: true });
  }
}
