/** Load generators: autocannon for one request, and a closed-loop driver for a client-side sequence. */
import http from 'node:http';
import autocannon from 'autocannon';
import { ms, summarize } from './report.js';

export interface LoadFigures {
  target: string;
  requestsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
  /** What the errors were, when there were any. */
  errorDetail?: string;
}

export interface LoadShape {
  connections: number;
  durationSec: number;
  warmupSec: number;
}

/**
 * autocannon on one POST: a warm-up run (discarded), then the measured run.
 * Errors = connection errors + timeouts + non-2xx + bodies that differ from
 * `expectBody` (the answer checked before the run).
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
  if (shape.warmupSec > 0) await autocannon({ ...opts, duration: shape.warmupSec });
  const r = await autocannon({ ...opts, duration: shape.durationSec, expectBody });
  const errors = r.errors + r.timeouts + r.non2xx + r.mismatches;
  const detail = errors
    ? `errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}, unexpected bodies ${r.mismatches}`
    : undefined;
  return {
    target,
    requestsPerSec: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors,
    total: r.requests.total,
    ...(detail ? { errorDetail: detail } : {}),
  };
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
      if (began < measureFrom) continue;
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
    requestsPerSec: (latencies.length + errors) / shape.durationSec,
    p50: s.p50,
    p99: s.p99,
    errors,
    total: latencies.length + errors,
    ...(detail ? { errorDetail: detail.slice(0, 500) } : {}),
  };
}

export const loadRow = (f: LoadFigures) => [f.target, f.requestsPerSec.toFixed(0), ms(f.p50), ms(f.p99), `${f.errors} / ${f.total}`];
export const LOAD_COLUMNS = ['target', 'requests/s', 'p50 ms', 'p99 ms', 'errors / requests'];
