/**
 * Keep-alive of the subgraph server and the worker health server, over real
 * sockets: KEEP_ALIVE_TIMEOUT_MS is applied (a short one closes an idle
 * socket after it; the 65 s default keeps a socket usable after more than
 * Node's old 5 s), a bad pair of timeouts is refused, and a 65 s keep-alive
 * does not hold up shutdown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gql } from 'graphql-tag';
import { IDENTITY_HEADER, signInternalIdentity } from '@rental/auth';
import { ConfigError } from '@rental/config';
import { createLogger } from '@rental/observability';
import { startSubgraph, startWorkerHealth, type BaseContext, type RunningSubgraph } from './index.js';
import { KeepAliveClient } from './testing.js';

const SECRET = 'keep-alive-test-secret-0123456789abcdefgh';
const logger = createLogger('keep-alive-test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function subgraph(httpTimeouts?: { KEEP_ALIVE_TIMEOUT_MS: number; HEADERS_TIMEOUT_MS?: number }): Promise<RunningSubgraph> {
  const server = await startSubgraph({
    name: 'keep-alive',
    typeDefs: gql`
      type Query {
        ping: String!
      }
    `,
    resolvers: { Query: { ping: () => 'pong' } },
    host: '127.0.0.1',
    port: 0,
    internalSecret: SECRET,
    logger,
    production: false,
    context: (base: BaseContext) => base,
    ...(httpTimeouts ? { httpTimeouts } : {}),
  });
  cleanups.push(() => server.stop());
  return server;
}

async function ping(client: KeepAliveClient, url: string) {
  const token = await signInternalIdentity({ sub: 'x', role: 'ANONYMOUS' }, SECRET);
  return client.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: token },
    body: JSON.stringify({ query: '{ ping }' }),
  });
}

function keepAliveClient(): KeepAliveClient {
  const client = new KeepAliveClient();
  cleanups.push(() => client.close());
  return client;
}

describe('subgraph server keep-alive', () => {
  it('KEEP_ALIVE_TIMEOUT_MS=1500: the server closes an idle socket after ~1.5 s, well before the old 5 s', async () => {
    const server = await subgraph({ KEEP_ALIVE_TIMEOUT_MS: 1_500 });
    const client = keepAliveClient();
    const first = await ping(client, server.url);
    expect(first.status).toBe(200);
    expect(first.headers['keep-alive']).toBe('timeout=1');
    // Node closes about 1 s after keepAliveTimeout (its own margin).
    const closedAfter = await client.serverClose(first, 5_000);
    expect(closedAfter).toBeGreaterThanOrEqual(1_400);
    expect(closedAfter).toBeLessThan(4_000);
  });

  it('by default (65 s) a socket idle for 6 s is reused and answered, by the subgraph and by a worker health server', async () => {
    const server = await subgraph();
    const worker = await startWorkerHealth({ name: 'w', host: '127.0.0.1', port: 0, logger });
    cleanups.push(() => worker.close());
    const [viaSubgraph, viaWorker] = [keepAliveClient(), keepAliveClient()];
    const [s1, w1] = await Promise.all([ping(viaSubgraph, server.url), viaWorker.request(`${worker.url}/healthz`)]);
    expect(s1.headers['keep-alive']).toBe('timeout=65');
    expect(w1.headers['keep-alive']).toBe('timeout=65');
    await sleep(6_000);
    const [s2, w2] = await Promise.all([ping(viaSubgraph, server.url), viaWorker.request(`${worker.url}/healthz`)]);
    expect(s2).toMatchObject({ status: 200, reused: true });
    expect(JSON.parse(s2.body)).toEqual({ data: { ping: 'pong' } });
    expect(w2).toMatchObject({ status: 200, reused: true });
    expect(s2.socket).toBe(s1.socket);
  }, 15_000);

  it('without httpTimeouts, KEEP_ALIVE_TIMEOUT_MS comes from the process environment (as main.ts started it)', async () => {
    process.env.KEEP_ALIVE_TIMEOUT_MS = '3000';
    try {
      const server = await subgraph();
      expect((await ping(keepAliveClient(), server.url)).headers['keep-alive']).toBe('timeout=3');
    } finally {
      delete process.env.KEEP_ALIVE_TIMEOUT_MS;
    }
  });

  it('refuses HEADERS_TIMEOUT_MS not above KEEP_ALIVE_TIMEOUT_MS, naming the variable', async () => {
    const started = subgraph({ KEEP_ALIVE_TIMEOUT_MS: 10_000, HEADERS_TIMEOUT_MS: 10_000 });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(/HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS \(10000\)/);
  });
});

describe('worker health server keep-alive', () => {
  it('applies a configured KEEP_ALIVE_TIMEOUT_MS', async () => {
    const worker = await startWorkerHealth({ name: 'w', host: '127.0.0.1', port: 0, logger, httpTimeouts: { KEEP_ALIVE_TIMEOUT_MS: 1_500 } });
    cleanups.push(() => worker.close());
    const client = keepAliveClient();
    const first = await client.request(`${worker.url}/healthz`);
    expect(first.headers['keep-alive']).toBe('timeout=1');
    expect(await client.serverClose(first, 5_000)).toBeLessThan(4_000);
  });
});

describe('shutdown with a 65 s keep-alive', () => {
  it('closes idle keep-alive sockets at once: stop() does not wait for them', async () => {
    const server = await subgraph();
    const clients = [keepAliveClient(), keepAliveClient(), keepAliveClient()];
    const idle = await Promise.all(clients.map((c) => ping(c, server.url)));
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    // Every idle socket got the server's FIN.
    for (const [i, c] of clients.entries()) await c.serverClose(idle[i]!, 1_000);
  });

  it('the worker health server closes its idle keep-alive sockets at once too', async () => {
    const worker = await startWorkerHealth({ name: 'w', host: '127.0.0.1', port: 0, logger });
    const client = keepAliveClient();
    const idle = await client.request(`${worker.url}/readyz`);
    const started = Date.now();
    await worker.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await client.serverClose(idle, 1_000);
  });
});
