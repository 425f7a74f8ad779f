/** Load generators: autocannon for one request, and a closed-loop driver for a client-side sequence. */
import http from 'node:http';
import autocannon from 'autocannon';
import { latencyBins, type LatencyBin } from './charts.js';
import { ms, summarize } from './report.js';

export interface LoadFigures {
  target: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
  /** Requests sent in the warm-up (not in the figures). */
  warmupTotal?: number;
  /** Requests sent, warm-up included (autocannon abandons those in flight at the end; the target still serves them). */
  sentTotal?: number;
  /** Subgraph GraphQL operations per request sent (from the subgraphs' /metrics, warm-up included), when known. */
  subgraphCallsPerAnswer?: number;
  /** What the errors were, when there were any. */
  errorDetail?: string;
  /** Latency histogram of the measured answers (successful ones for the closed loop; all for autocannon). */
  bins?: LatencyBin[];
}

export interface LoadShape {
  connections: number;
  durationSec: number;
  warmupSec: number;
}

const sent = (r: autocannon.Result) => (r.requests as { sent?: number }).sent ?? r.requests.total;

/**
 * What an autocannon run with `expectBody` got right and wrong. Only answers
 * equal to the expected one count as throughput. autocannon counts every
 * answer in `requests.total` and counts a non-2xx answer twice (in `non2xx`
 * and, since its body differs from the expected 200 body, in `mismatches`),
 * so the failed answers are the mismatches; connection errors and timeouts
 * never got an answer at all.
 */
export function answerCounts(r: autocannon.Result): { ok: number; errors: number; detail?: string } {
  const ok = Math.max(0, r.requests.total - r.mismatches);
  const errors = r.errors + r.timeouts + r.mismatches;
  const detail = errors
    ? `connection errors ${r.errors}, timeouts ${r.timeouts}, wrong answers ${r.mismatches} (of them non-2xx ${r.non2xx})`
    : undefined;
  return { ok, errors, ...(detail ? { detail } : {}) };
}

/** An autocannon run with every answer's latency (ms) kept, for a histogram (its own result holds percentiles only). */
export function autocannonSampled(opts: autocannon.Options): Promise<{ result: autocannon.Result; samples: number[] }> {
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const run = autocannon(opts, (err: Error | null, result) => (err ? reject(err) : resolve({ result, samples })));
    run.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
}

/**
 * autocannon on one POST: a warm-up run (discarded), then the measured run.
 * Requests/s counts only answers equal to `expectBody` (the answer checked
 * before the run); errors (connection errors, timeouts, other answers) are
 * reported apart.
 */

export async function autocannonPost(
  target: string,
  url: string,
  headers: Record<string, string>,
  body: string,
  expectBody: string,
  shape: LoadShape,
): Promise<LoadFigures> {
  const opts = { url, method: 'POST' as const, headers: { 'content-type': 'application/json', ...headers }, body, connections: shape.connections };
  const warm = shape.warmupSec > 0 ? await autocannon({ ...opts, duration: shape.warmupSec }) : undefined;
  const { result: r, samples } = await autocannonSampled({ ...opts, duration: shape.durationSec, expectBody });
  const { ok, errors, detail } = answerCounts(r);
  return {
    target,
    requestsPerSec: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors,
    total: ok + errors,
    warmupTotal: warm?.requests.total ?? 0,
    sentTotal: sent(r) + (warm ? sent(warm) : 0),
    ...(detail ? { errorDetail: detail } : {}),
    bins: latencyBins(samples),
  };
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

export interface HttpAnswer {
  status: number;
  text: string;
}

/** A keep-alive HTTP/1.1 client (node:http), like autocannon's persistent connections. */
export function httpClient(maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    post(url: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> {
      return new Promise((resolve, reject) => {
        const req = http.request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * Closed loop: `connections` concurrent clients each run `once()` back to
 * back for warm-up + duration; only iterations started inside the measured
 * window count. `once()` returns an error description or undefined.
 */
export async function closedLoop(target: string, shape: LoadShape, once: () => Promise<string | undefined>): Promise<LoadFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let warmupCount = 0;
  const errorKinds = new Map<string, number>();
  const start = Date.now();
  const measureFrom = start + shape.warmupSec * 1000;
  const end = measureFrom + shape.durationSec * 1000;
  const client = async () => {
    while (Date.now() < end) {
      const t0 = performance.now();
      const began = Date.now();
      let err: string | undefined;
      try {
        err = await once();
      } catch (e) {
        err = (e as Error).message;
      }
      if (began < measureFrom) {
        warmupCount++;
        continue;
      }
      if (Date.now() > end + 10_000) break;
      if (err) {
        errors++;
        errorKinds.set(err, (errorKinds.get(err) ?? 0) + 1);
      } else latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: shape.connections }, client));
  const s = summarize(latencies);
  const detail = [...errorKinds].map(([k, n]) => `${n}× ${k}`).join('; ');
  return {
    target,
    // Throughput is successful answers only; errors are reported apart.
    requestsPerSec: latencies.length / shape.durationSec,
    p50: s.p50,
    p99: s.p99,
    errors,
    total: latencies.length + errors,
    warmupTotal: warmupCount,
    ...(detail ? { errorDetail: detail.slice(0, 500) } : {}),
    bins: latencyBins(latencies),
  };
}

export const loadRow = (f: LoadFigures) => [
  f.target,
  f.requestsPerSec.toFixed(1),
  ms(f.p50),
  ms(f.p99),
  f.errors === 0 ? '0' : `${f.errors} (${(f.errors / f.total * 100).toFixed(1)}%)`,
  f.subgraphCallsPerAnswer === undefined ? '–' : f.subgraphCallsPerAnswer.toFixed(2),
];
export const LOAD_COLUMNS = ['target', 'requests/s', 'p50 ms', 'p99 ms', 'errors (not in requests/s)', 'subgraph calls / request'];

/** Sum of `graphql_requests_total` over the given subgraphs' /metrics. */
export async function subgraphRequestCount(graphqlUrls: string[]): Promise<number> {
  let sum = 0;
  for (const url of graphqlUrls) {
    const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('graphql_requests_total')) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
  }
  return sum;
}

/** The count once it stops moving (requests a target still had queued when the load stopped), at most 30 s. */
async function quiescedCount(graphqlUrls: string[]): Promise<number> {
  let last = await subgraphRequestCount(graphqlUrls);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await subgraphRequestCount(graphqlUrls);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** Runs a measurement and adds subgraph calls per answer to its figures. */
export async function withSubgraphCalls(graphqlUrls: string[], measure: () => Promise<LoadFigures>): Promise<LoadFigures> {
  const before = await quiescedCount(graphqlUrls);
  const f = await measure();
  const answers = f.sentTotal ?? f.total + (f.warmupTotal ?? 0);
  const after = await quiescedCount(graphqlUrls);
  return answers > 0 ? { ...f, subgraphCallsPerAnswer: (after - before) / answers } : f;
}
