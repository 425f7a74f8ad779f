/**
 * The whole system in this test process, as in production but on free ports:
 * items, reservations (+ worker), stores (+ worker), rentals (+ worker), the
 * router on the checked-in supergraph with SUBGRAPH_URLS pointing at them,
 * and the web build served by web/serve.ts with /graphql (HTTP + WebSocket)
 * proxied to the router. Real FerretDB/MongoDB and Redis come from the vitest
 * global setup (MONGODB_URI, REDIS_URL, JWT_SECRET, INTERNAL_JWT_SECRET).
 * Each call uses its own database prefix and queue prefix.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signUserToken, type UserRole } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase } from '@rental/db';
import { createLogger } from '@rental/observability';
import { itemsConfigShape, startItems } from '@rental/items';
import { rentalsConfigShape, startRentals, startRentalsWorker } from '@rental/rentals';
import { reservationsConfigShape, startReservations, startReservationsWorker } from '@rental/reservations';
import { parseRouterConfig, startRouter, type RunningRouter } from '@rental/router';
import { startStores, startStoresWorker, storesConfigShape } from '@rental/stores';
import { startWebServer } from '../serve.ts';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(webDir, '..');
const logger = createLogger('web-e2e', (process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'silent');

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (the vitest global setup sets it)`);
  return v;
}

/** `vite build` of web/ into a fresh temporary folder (the same build production serves). */
export function buildWeb(): string {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rental-web-'));
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: webDir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return outDir;
}

export interface Stack {
  router: RunningRouter;
  /** The web page's origin, e.g. http://127.0.0.1:41234 */
  webUrl: string;
  /** The router's GraphQL URL. */
  graphqlUrl: string;
  token(role: UserRole, sub: string, storeId?: string): Promise<string>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  stop(): Promise<void>;
}

export async function startStack(tag: string): Promise<Stack> {
  const id = `${tag}_${randomBytes(4).toString('hex')}`;
  const dbPrefix = `e2e_web_${id}`;
  const queuePrefix = `e2e_web_${id}`;
  const base: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: queuePrefix,
    OUTBOX_SWEEP_MS: '200',
  };
  const stops: Array<() => Promise<unknown>> = [];
  const dbNames: string[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err }, 'stop failed'));
    stops.length = 0;
    const uri = requireEnv('MONGODB_URI');
    for (const name of dbNames) {
      const conn = await connectDatabase(uri, name).catch(() => undefined);
      await conn?.dropDatabase().catch(() => undefined);
      await conn?.close().catch(() => undefined);
    }
  };

  try {
    const items = await startItems(parseConfig(itemsConfigShape, { ...base, ITEMS_PORT: '0' }), { port: 0, dbPrefix, logger });
    stops.push(() => items.stop());
    dbNames.push(items.dbName);

    const rentalsConfig = parseConfig(rentalsConfigShape, { ...base, RENTALS_PORT: '0' });
    const rentals = await startRentals(rentalsConfig, { port: 0, dbPrefix, logger });
    stops.push(() => rentals.stop());
    dbNames.push(rentals.dbName);
    const rentalsWorker = await startRentalsWorker(rentalsConfig, { dbPrefix, logger });
    stops.push(() => rentalsWorker.stop());

    const storesConfig = parseConfig(storesConfigShape, { ...base, STORES_PORT: '0' });
    const stores = await startStores(storesConfig, { dbPrefix, queuePrefix, logger });
    stops.push(() => stores.stop());
    dbNames.push(`${dbPrefix}_stores`);
    const storesWorker = await startStoresWorker(storesConfig, { dbPrefix, queuePrefix, logger });
    stops.push(() => storesWorker.stop());

    const reservationsConfig = parseConfig(reservationsConfigShape, {
      ...base,
      RESERVATIONS_PORT: '0',
      ITEMS_URL: items.url,
      RENTALS_URL: rentals.url,
    });
    const reservations = await startReservations(reservationsConfig, { port: 0, dbPrefix, queuePrefix, logger });
    stops.push(() => reservations.stop());
    dbNames.push(reservations.dbName);
    const reservationsWorker = await startReservationsWorker(reservationsConfig, { dbPrefix, queuePrefix, logger });
    stops.push(() => reservationsWorker.stop());

    const router = await startRouter(
      parseRouterConfig({
        ...base,
        ROUTER_PORT: '0',
        SUPERGRAPH_PATH: path.join(repoDir, 'schema/supergraph.graphql'),
        SUPERGRAPH_WATCH: 'false',
        SUBGRAPH_URLS: `items=${items.url},reservations=${reservations.url},stores=${stores.url},rentals=${rentals.url}`,
        DRAIN_TIMEOUT_MS: '1000',
      }),
      { logger },
    );
    stops.push(() => router.stop());

    const distDir = buildWeb();
    stops.push(async () => fs.rmSync(distDir, { recursive: true, force: true }));
    const web = await startWebServer({
      distDir,
      routerUrl: new URL(router.url).origin,
      localSignInSecret: requireEnv('JWT_SECRET'),
    });
    stops.push(() => web.stop());

    const secret = requireEnv('JWT_SECRET');
    return {
      router,
      webUrl: web.url,
      graphqlUrl: router.url,
      token: (role, sub, storeId) => signUserToken({ sub, role, ...(storeId ? { storeId } : {}) }, { secret, expiresIn: '10m' }),
      async gql(query, variables, token) {
        const res = await fetch(router.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        return (await res.json()) as never;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
