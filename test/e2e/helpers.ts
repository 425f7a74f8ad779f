/**
 * End-to-end helpers: real subgraphs and the real router over HTTP, on the
 * checked-in supergraph, with the subgraphs' URLs overridden to where this
 * test started them. Each test file uses its own database prefix.
 */
import { randomBytes } from 'node:crypto';
import { signUserToken, type UserRole } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase } from '@rental/db';
import { createLogger } from '@rental/observability';
import { startItems, itemsConfigShape, type RunningItems } from '@rental/items';
import { parseRouterConfig, startRouter, type RunningRouter } from '@rental/router';

export const silent = createLogger('e2e', 'silent');

export interface System {
  router: RunningRouter;
  items: RunningItems;
  stop(): Promise<void>;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set for end-to-end tests`);
  return v;
}

/** Starts items (own database) and the router in front of it. */
export async function startSystem(fileTag: string): Promise<System> {
  const dbPrefix = `e2e_${fileTag}_${randomBytes(4).toString('hex')}`;
  const env = { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  const items = await startItems(parseConfig(itemsConfigShape, { ...env, ITEMS_PORT: '0' }), {
    port: 0,
    dbPrefix,
    logger: silent,
  });
  let router: RunningRouter;
  try {
    router = await startRouter(
      parseRouterConfig({
        ...env,
        ROUTER_PORT: '0',
        SUPERGRAPH_PATH: 'schema/supergraph.graphql',
        SUBGRAPH_URLS: `items=${items.url}`,
      }),
      { logger: silent },
    );
  } catch (err) {
    await items.stop();
    throw err;
  }
  return {
    router,
    items,
    async stop() {
      await router.stop();
      await items.stop();
      const conn = await connectDatabase(requireEnv('MONGODB_URI'), items.dbName);
      try {
        await conn.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  };
}

export function userToken(role: UserRole, sub: string, storeId?: string): Promise<string> {
  return signUserToken({ sub, role, ...(storeId ? { storeId } : {}) }, { secret: requireEnv('JWT_SECRET'), expiresIn: '10m' });
}

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  opts: { variables?: Record<string, unknown>; token?: string } = {},
): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: JSON.stringify({ query, variables: opts.variables }),
  });
  const body = (await res.json()) as Omit<GqlResponse<T>, 'status'>;
  return { status: res.status, ...body };
}
