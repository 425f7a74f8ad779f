/**
 * Shutdown and health of the shared server: readiness off first, requests
 * served with `Connection: close` during SHUTDOWN_DELAY_MS, in-flight ones
 * drained, then the port refuses; liveness after a dependency grace period;
 * the worker health server.
 */
import { describe, expect, it } from 'vitest';
import { gql } from 'graphql-tag';
import { IDENTITY_HEADER, signInternalIdentity } from '@rental/auth';
import { createLogger } from '@rental/observability';
import { HealthState, startSubgraph, startWorkerHealth, type BaseContext } from './index.js';

const SECRET = 'lifecycle-test-secret-0123456789abcdefgh';
const logger = createLogger('lifecycle-test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const typeDefs = gql`
  type Query {
    slow(ms: Int!): Int!
  }
`;

async function call(url: string, ms: number) {
  const token = await signInternalIdentity({ sub: 'x', role: 'ANONYMOUS' }, SECRET);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: token },
    body: JSON.stringify({ query: `{ slow(ms: ${ms}) }` }),
  });
  return { status: res.status, connection: res.headers.get('connection'), body: await res.json() };
}

describe('subgraph shutdown', () => {
  it('fails readiness first, serves with Connection: close during the delay, drains in-flight work, then refuses', async () => {
    let stopped = false;
    const server = await startSubgraph({
      name: 'lifecycle',
      typeDefs,
      resolvers: { Query: { slow: async (_: unknown, { ms }: { ms: number }) => (await sleep(ms), ms) } },
      host: '127.0.0.1',
      port: 0,
      internalSecret: SECRET,
      logger,
      production: false,
      context: (base: BaseContext) => base,
      shutdownDelayMs: 400,
      onStop: async () => {
        stopped = true;
      },
    });
    const base = server.url.replace(/\/graphql$/, '');
    const inFlight = call(server.url, 700);
    await sleep(100);
    const stopping = server.stop();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'draining' });
    // Still served during the delay, but the connection is not kept.
    const during = await call(server.url, 1);
    expect(during).toMatchObject({ status: 200, connection: 'close', body: { data: { slow: 1 } } });
    expect(await inFlight).toMatchObject({ status: 200, body: { data: { slow: 700 } } });
    await stopping;
    expect(stopped).toBe(true);
    await expect(fetch(`${base}/readyz`)).rejects.toThrow();
  });
});

describe('liveness and lost dependencies', () => {
  it('readiness fails at once; liveness only after the grace period; both recover', async () => {
    let up = true;
    const health = new HealthState([async () => up], { dependencyGraceMs: 300, checkIntervalMs: 50 });
    try {
      expect(await health.ready()).toEqual({ ok: true });
      up = false;
      expect(await health.ready()).toEqual({ ok: false, reason: 'dependency unavailable' });
      expect(health.live().ok).toBe(true);
      await sleep(450);
      expect(health.live()).toMatchObject({ ok: false, reason: 'dependency lost past the grace period' });
      up = true;
      await sleep(120);
      expect(health.live().ok).toBe(true);
      expect(await health.ready()).toEqual({ ok: true });
    } finally {
      health.close();
    }
  });

  it('a check that never answers counts as failed after the check timeout', async () => {
    const health = new HealthState([() => new Promise<boolean>(() => undefined)], { checkTimeoutMs: 100, checkIntervalMs: 10_000 });
    try {
      const started = Date.now();
      expect((await health.ready()).ok).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      health.close();
    }
  });
});

describe('worker health server', () => {
  it('serves /healthz, /readyz (off after drain) and /metrics, and closes', async () => {
    let running = true;
    const server = await startWorkerHealth({ name: 'w', host: '127.0.0.1', port: 0, logger, readinessChecks: [async () => running] });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      running = false;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      running = true;
      server.drain();
      expect(await (await fetch(`${server.url}/readyz`)).json()).toMatchObject({ reason: 'draining' });
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/process_cpu_seconds_total/);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
