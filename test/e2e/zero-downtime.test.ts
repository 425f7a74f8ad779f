/**
 * Zero downtime: two instances of the items subgraph (same database) behind
 * the real router (`SUBGRAPH_URLS=items=A|B`), a steady load of queries and
 * mutations through the router, and a rolling restart: A stops gracefully
 * (readiness off for SHUTDOWN_DELAY_MS, then the port closes and in-flight
 * requests drain) and starts again on the same port; once the router uses it
 * again, B does the same. Not one request may fail, and every mutation that
 * answered is in the database exactly once.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@rental/config';
import { connectDatabase } from '@rental/db';
import { itemsConfigShape, startItems, type RunningItems } from '@rental/items';
import { parseRouterConfig, startRouter, type RunningRouter } from '@rental/router';
import { freePort } from '../../infra/local/ports.js';
import { gql, silent, userToken } from './helpers.js';

const SHUTDOWN_DELAY_MS = 1_000;
const HEALTH_INTERVAL_MS = 200;
const dbName = `e2e_zd_${randomBytes(4).toString('hex')}_items`;
const env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS) };

interface Instance {
  port: number;
  url: string;
  running: RunningItems | undefined;
}

let a: Instance;
let b: Instance;
let router: RunningRouter;

async function start(i: Instance): Promise<void> {
  i.running = await startItems(parseConfig(itemsConfigShape, { ...env, REGISTER_ITEM_CONCURRENCY: '64' }), {
    port: i.port,
    dbName,
    logger: silent,
  });
}

/** Graceful stop (what SIGTERM runs), then a start on the same port; resolves once the router uses it again. */
async function restart(i: Instance): Promise<void> {
  await i.running?.stop();
  i.running = undefined;
  await start(i);
  // The router's readiness poll puts it back within HEALTH_INTERVAL_MS; give it a few rounds.
  await new Promise((r) => setTimeout(r, HEALTH_INTERVAL_MS * 4));
}

beforeAll(async () => {
  const [pa, pb] = [await freePort(), await freePort()];
  a = { port: pa, url: `http://127.0.0.1:${pa}/graphql`, running: undefined };
  b = { port: pb, url: `http://127.0.0.1:${pb}/graphql`, running: undefined };
  await start(a);
  await start(b);
  router = await startRouter(
    parseRouterConfig({
      ...env,
      SHUTDOWN_DELAY_MS: '0',
      ROUTER_PORT: '0',
      SUPERGRAPH_PATH: path.resolve('schema/supergraph.graphql'),
      SUPERGRAPH_WATCH: 'false',
      SUBGRAPH_URLS: `items=${a.url}|${b.url}`,
      SUBGRAPH_HEALTH_INTERVAL_MS: String(HEALTH_INTERVAL_MS),
      SUBGRAPH_DOWN_MS: '2000',
      RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    }),
    { logger: silent },
  );
}, 60_000);

afterAll(async () => {
  await router?.stop();
  await Promise.all([a?.running?.stop(), b?.running?.stop()]);
  const conn = await connectDatabase(process.env.MONGODB_URI as string, dbName);
  await conn.dropDatabase().catch(() => undefined);
  await conn.close();
});

describe('rolling restart of a subgraph with two instances', () => {
  it('serves every query and mutation through the router while A, then B, restart', async () => {
    const admin = await userToken('ADMIN', 'ada');
    const failures: string[] = [];
    let queries = 0;
    const registered: string[] = [];
    let stop = false;

    const worker = async (n: number) => {
      for (let i = 0; !stop; i++) {
        // One mutation in five, the rest queries.
        if (i % 5 === 4) {
          const res = await gql<{ registerItem: { id: string } }>(
            router.url,
            'mutation ($input: RegisterItemInput!) { registerItem(input: $input) { id } }',
            {
              token: admin,
              variables: {
                input: { storeId: 'zd-store', name: `zd-${n}-${i}`, category: 'camera', dailyRate: 10, stock: 1 },
              },
            },
          ).catch((err: Error) => ({ status: 0, errors: [{ message: err.message }], data: undefined }));
          if (res.status !== 200 || res.errors || !res.data?.registerItem.id) failures.push(`mutation: ${JSON.stringify(res)}`);
          else registered.push(res.data.registerItem.id);
        } else {
          const res = await gql<{ items: { totalCount: number } }>(router.url, '{ items(first: 5) { totalCount edges { node { id name stock } } } }').catch(
            (err: Error) => ({ status: 0, errors: [{ message: err.message }], data: undefined }),
          );
          if (res.status !== 200 || res.errors || typeof res.data?.items.totalCount !== 'number') failures.push(`query: ${JSON.stringify(res)}`);
          else queries++;
        }
      }
    };

    const load = Promise.all([0, 1, 2, 3].map(worker));
    await new Promise((r) => setTimeout(r, 500));
    await restart(a);
    await new Promise((r) => setTimeout(r, 300));
    await restart(b);
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await load;

    expect(failures).toEqual([]);
    expect(queries).toBeGreaterThan(50);
    expect(registered.length).toBeGreaterThan(10);
    // Each answered mutation is there exactly once (none was sent twice).
    const count = await gql<{ items: { totalCount: number } }>(router.url, '{ items(first: 1) { totalCount } }');
    expect(count.data?.items.totalCount).toBe(registered.length);
    expect(new Set(registered).size).toBe(registered.length);
  }, 60_000);
});
