/**
 * Test support (used by the *.test.ts files only): starts the items subgraph
 * on a free port with a database of its own, calls it over HTTP with a signed
 * identity, and drops the database afterwards.
 */
import { callSubgraph, type SubgraphResponse } from '@rental/subgraph-server/testing';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Identity } from '@rental/auth';
import { parseConfig } from '@rental/config';
import { connectDatabase, mongoose } from '@rental/db';
import { itemsConfigShape } from './config.js';
import { startItems, type RunningItems } from './app.js';

export type GraphQLResponse<T = Record<string, unknown>> = SubgraphResponse<T>;

export const as = {
  anonymous: { sub: 'anonymous', role: 'ANONYMOUS' } as Identity,
  customer: { sub: 'carol', role: 'CUSTOMER' } as Identity,
  admin: { sub: 'ada', role: 'ADMIN' } as Identity,
  service: { sub: 'reservations', role: 'SERVICE' } as Identity,
  staff: (storeId: string): Identity => ({ sub: `staff-of-${storeId}`, role: 'STAFF', storeId }),
};

export interface TestItems {
  running: RunningItems;
  /** A second connection to the subgraph's database, for checking what was written. */
  db: Connection;
  secret: string;
  /** POSTs a GraphQL operation as `identity` (null: no identity header at all). */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity | null,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  /** Units in stock, read straight from the database. */
  stockOf(itemId: string): Promise<number>;
  countItems(): Promise<number>;
  /** Stops the subgraph and drops its database. */
  stop(): Promise<void>;
}

/** Starts items on its own database; `env` overrides settings (e.g. smaller admission limits). */
export async function startTestItems(env: Record<string, string> = {}): Promise<TestItems> {
  const secret = process.env.INTERNAL_JWT_SECRET ?? randomBytes(24).toString('hex');
  const config = parseConfig(itemsConfigShape, {
    ...process.env,
    INTERNAL_JWT_SECRET: secret,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    ...env,
  });
  const running = await startItems(config, { port: 0, dbPrefix: `test_${randomBytes(6).toString('hex')}` });
  const db = await connectDatabase(config.MONGODB_URI, running.dbName);
  const items = db.collection('items');

  return {
    running,
    db,
    secret,
    gql: (query, variables, identity = as.anonymous, headers = {}) => callSubgraph(running.url, secret, query, variables, identity, headers),
    async stockOf(itemId) {
      const doc = await items.findOne({ _id: new mongoose.Types.ObjectId(itemId) });
      if (!doc) throw new Error(`no item ${itemId}`);
      return doc.stock as number;
    },
    countItems: () => items.countDocuments({}),
    async stop() {
      await running.stop();
      await db.dropDatabase();
      await db.close();
    },
  };
}

export const ITEM_FIELDS = 'id name description category dailyRate stock storeId';

export const REGISTER = `mutation Register($input: RegisterItemInput!) { registerItem(input: $input) { ${ITEM_FIELDS} } }`;
export const HOLD = `mutation Hold($r: ID!, $i: ID!, $q: Int!) {
  holdStock(reservationId: $r, itemId: $i, quantity: $q) { reservationId itemId quantity released item { id stock } }
}`;
export const RELEASE = `mutation Release($r: ID!, $i: ID!) {
  releaseStock(reservationId: $r, itemId: $i) { reservationId itemId quantity released item { id stock } }
}`;

/** Registers an item as ADMIN and returns its id. */
export async function registerAs(
  t: TestItems,
  input: Partial<{ storeId: string; name: string; description: string; category: string; dailyRate: number; stock: number }> = {},
): Promise<string> {
  const res = await t.gql<{ registerItem: { id: string } }>(
    REGISTER,
    { input: { storeId: 'store-1', name: 'Camera', category: 'cameras', dailyRate: 1000, stock: 5, ...input } },
    as.admin,
  );
  if (!res.data?.registerItem) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  return res.data.registerItem.id;
}
