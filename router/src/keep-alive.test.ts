/**
 * The router's HTTP keep-alive, over real sockets: the 65 s default keeps a
 * socket usable after sitting idle longer than Node's old 5 s, a configured
 * KEEP_ALIVE_TIMEOUT_MS is applied, a long keep-alive does not hold up
 * shutdown, and a bad pair of timeouts stops the process with a message
 * naming the variable.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@rental/config';
import { KeepAliveClient } from '@rental/subgraph-server/testing';
import { startRouter, type RunningRouter } from './app.js';
import { parseRouterConfig } from './config.js';
import { INTERNAL_SECRET, startFixture, type Fixture } from './test-fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const QUERY = JSON.stringify({ query: '{ widget(id: "w1") { name rating } }' });

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx?.stop());

async function withRouter(env: Record<string, string>, run: (router: RunningRouter, client: KeepAliveClient) => Promise<void>) {
  const router = await startRouter(fx.config(env));
  const client = new KeepAliveClient();
  try {
    await run(router, client);
  } finally {
    client.close();
    await router.stop();
  }
}

const query = (client: KeepAliveClient, router: RunningRouter) =>
  client.request(router.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: QUERY });

describe('router keep-alive', () => {
  it('by default (65 s) a socket idle for 6 s is reused and answered (the gateway reaches both subgraphs)', async () => {
    await withRouter({}, async (router, client) => {
      const first = await query(client, router);
      expect(first.status).toBe(200);
      expect(first.headers['keep-alive']).toBe('timeout=65');
      await sleep(6_000);
      const second = await query(client, router);
      expect(second).toMatchObject({ status: 200, reused: true });
      expect(second.socket).toBe(first.socket);
      expect(JSON.parse(second.body)).toEqual({ data: { widget: { name: 'Sprocket', rating: 5 } } });
    });
  }, 20_000);

  it('KEEP_ALIVE_TIMEOUT_MS=1500: the router closes an idle socket after ~1.5 s, well before the old 5 s', async () => {
    await withRouter({ KEEP_ALIVE_TIMEOUT_MS: '1500' }, async (router, client) => {
      const first = await query(client, router);
      expect(first.status).toBe(200);
      expect(first.headers['keep-alive']).toBe('timeout=1');
      const closedAfter = await client.serverClose(first, 5_000);
      expect(closedAfter).toBeGreaterThanOrEqual(1_400);
      expect(closedAfter).toBeLessThan(4_000);
    });
  });

  it('stop() closes idle keep-alive sockets at once instead of waiting out the 65 s', async () => {
    const router = await startRouter(fx.config());
    const clients = [new KeepAliveClient(), new KeepAliveClient()];
    try {
      const idle = await Promise.all(clients.map((c) => query(c, router)));
      const started = Date.now();
      await router.stop();
      expect(Date.now() - started).toBeLessThan(2_000);
      for (const [i, c] of clients.entries()) await c.serverClose(idle[i]!, 1_000);
    } finally {
      for (const c of clients) c.close();
      await router.stop();
    }
  });
});

describe('timeouts configuration', () => {
  it('defaults: keep-alive 65000, headers unset (keep-alive + 5000), subgraph connections idle 60000', () => {
    const config = fx.config();
    expect(config).toMatchObject({ KEEP_ALIVE_TIMEOUT_MS: 65_000, SUBGRAPH_IDLE_TIMEOUT_MS: 60_000 });
    expect(config.HEADERS_TIMEOUT_MS).toBeUndefined();
  });

  it('HEADERS_TIMEOUT_MS not above KEEP_ALIVE_TIMEOUT_MS → ConfigError naming it', () => {
    expect(() => fx.config({ KEEP_ALIVE_TIMEOUT_MS: '30000', HEADERS_TIMEOUT_MS: '30000' })).toThrow(ConfigError);
    expect(() => parseRouterConfig({ INTERNAL_JWT_SECRET: INTERNAL_SECRET, SUBGRAPH_IDLE_TIMEOUT_MS: 'never' })).toThrow(
      /SUBGRAPH_IDLE_TIMEOUT_MS: /,
    );
  });

  it('main.ts exits 1 at start with a message naming the bad variable', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        INTERNAL_JWT_SECRET: INTERNAL_SECRET,
        JWT_SECRET: 'x'.repeat(40),
        ROUTER_PORT: '0',
        KEEP_ALIVE_TIMEOUT_MS: '65000',
        HEADERS_TIMEOUT_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS (65000), got 60000');
  }, 20_000);
});
