/**
 * `npm run seed`: loads demo stores and items into the running system,
 * through the router like any client (so `npm start` must be running).
 *
 * - Signs its own ADMIN token with `JWT_SECRET` (environment, `.env` or the
 *   generated `.data/local.env`, as `npm run token` does).
 * - Idempotent: a store whose name exists is kept (its id is used for its
 *   items); an item whose name exists in that store is skipped. Run it as
 *   often as you like.
 * - Router: `SEED_ROUTER_URL`, else `http://127.0.0.1:<ROUTER_PORT or 4000>/graphql`.
 *
 * Prices are daily rates in cents.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { signUserToken } from '@rental/auth';
import { localEnv } from './secrets.js';

export interface DemoItem {
  name: string;
  description: string;
  category: 'camera' | 'laptop' | 'drone' | 'car';
  /** Cents per day. */
  dailyRate: number;
  stock: number;
}

export interface DemoStore {
  /** Preferred id (used when the store is created). */
  id: string;
  name: string;
  city: string;
  address: string;
  items: DemoItem[];
}

export const DEMO_STORES: readonly DemoStore[] = [
  {
    id: 'S1',
    name: 'Downtown',
    city: 'Springfield',
    address: '12 Main Street',
    items: [
      { name: 'Sony A7 IV', description: 'Full-frame mirrorless camera, 33 MP, with 28-70 mm lens', category: 'camera', dailyRate: 4500, stock: 3 },
      { name: 'Canon EOS R6 Mark II', description: 'Full-frame mirrorless camera, 24 MP, with 24-105 mm lens', category: 'camera', dailyRate: 5500, stock: 2 },
      { name: 'GoPro HERO12 Black', description: 'Action camera with mounts and two batteries', category: 'camera', dailyRate: 1500, stock: 6 },
      { name: 'MacBook Pro 14 (M3 Pro)', description: '18 GB RAM, 512 GB SSD', category: 'laptop', dailyRate: 6000, stock: 4 },
      { name: 'Dell XPS 13', description: 'Intel Core Ultra 7, 16 GB RAM', category: 'laptop', dailyRate: 3500, stock: 5 },
      { name: 'DJI Mini 4 Pro', description: 'Sub-250 g drone, 4K HDR, Fly More kit', category: 'drone', dailyRate: 3000, stock: 3 },
      { name: 'Toyota Corolla Hybrid', description: 'Compact car, 5 seats, automatic', category: 'car', dailyRate: 4900, stock: 2 },
    ],
  },
  {
    id: 'S2',
    name: 'Airport',
    city: 'Springfield',
    address: 'Terminal 1, arrivals hall',
    items: [
      { name: 'Tesla Model 3', description: 'Electric sedan, long range, 5 seats', category: 'car', dailyRate: 8900, stock: 2 },
      { name: 'Volkswagen Golf', description: 'Compact car, 5 seats, manual', category: 'car', dailyRate: 4200, stock: 4 },
      { name: 'BMW X5', description: 'SUV, 7 seats, automatic, all-wheel drive', category: 'car', dailyRate: 12900, stock: 1 },
      { name: 'DJI Air 3', description: 'Dual-camera drone, 46 min flight time', category: 'drone', dailyRate: 4000, stock: 2 },
      { name: 'Lenovo ThinkPad X1 Carbon', description: 'Business laptop, 32 GB RAM', category: 'laptop', dailyRate: 4000, stock: 3 },
      { name: 'Fujifilm X100VI', description: 'Compact camera, 40 MP, fixed 23 mm lens', category: 'camera', dailyRate: 3500, stock: 2 },
    ],
  },
];

export interface SeedOptions {
  /** The router's GraphQL URL. */
  url: string;
  /** HS256 secret of user tokens (the router's JWT_SECRET). */
  secret: string;
  stores?: readonly DemoStore[];
  log?: (line: string) => void;
}

export interface SeedResult {
  stores: { created: string[]; skipped: string[] };
  items: { created: string[]; skipped: string[] };
}

type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

function client(url: string, token: string): Gql {
  return async <T>(query: string, variables?: Record<string, unknown>) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new Error(`cannot reach the router at ${url} (is \`npm start\` running?): ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    if (body.errors?.length || !body.data) {
      const e = body.errors?.[0];
      throw new Error(e ? `${e.message} (${e.extensions?.code ?? 'no code'})` : `HTTP ${res.status} without data`);
    }
    return body.data;
  };
}

/** Names of the items of a store (every page). */
async function itemNames(gql: Gql, storeId: string): Promise<Set<string>> {
  const names = new Set<string>();
  let after: string | null = null;
  for (;;) {
    const page: { items: { edges: Array<{ node: { name: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      'query($storeId: ID!, $after: String) { items(filter: { storeId: $storeId }, first: 100, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }',
      { storeId, after },
    );
    for (const e of page.items.edges) names.add(e.node.name);
    if (!page.items.pageInfo.hasNextPage || !page.items.pageInfo.endCursor) return names;
    after = page.items.pageInfo.endCursor;
  }
}

/** Creates what is missing of `stores` (default the demo data); see the module comment. */
export async function seed(opts: SeedOptions): Promise<SeedResult> {
  const log = opts.log ?? (() => undefined);
  const token = await signUserToken({ sub: 'seed', role: 'ADMIN' }, { secret: opts.secret, expiresIn: '10m' });
  const gql = client(opts.url, token);
  const result: SeedResult = { stores: { created: [], skipped: [] }, items: { created: [], skipped: [] } };

  const { stores: existing } = await gql<{ stores: Array<{ id: string; name: string }> }>('{ stores { id name } }');
  for (const store of opts.stores ?? DEMO_STORES) {
    let storeId = existing.find((s) => s.name === store.name)?.id;
    if (storeId) {
      result.stores.skipped.push(store.name);
      log(`store "${store.name}" exists (${storeId}), kept`);
    } else {
      const { createStore } = await gql<{ createStore: { id: string } }>(
        'mutation($input: CreateStoreInput!) { createStore(input: $input) { id } }',
        { input: { id: store.id, name: store.name, city: store.city, address: store.address } },
      );
      storeId = createStore.id;
      result.stores.created.push(store.name);
      log(`store "${store.name}" created (${storeId})`);
    }

    const names = await itemNames(gql, storeId);
    for (const item of store.items) {
      const label = `${store.name} / ${item.name}`;
      if (names.has(item.name)) {
        result.items.skipped.push(label);
        log(`  item "${item.name}" exists, skipped`);
        continue;
      }
      const { registerItem } = await gql<{ registerItem: { id: string } }>(
        'mutation($input: RegisterItemInput!) { registerItem(input: $input) { id } }',
        { input: { storeId, ...item } },
      );
      result.items.created.push(label);
      log(`  item "${item.name}" created (${registerItem.id}): ${item.category}, ${(item.dailyRate / 100).toFixed(2)}/day, stock ${item.stock}`);
    }
  }
  return result;
}

async function main(): Promise<void> {
  const env = localEnv();
  const url = env.SEED_ROUTER_URL ?? `http://127.0.0.1:${env.ROUTER_PORT ?? '4000'}/graphql`;
  const say = (line: string) => console.log(`[seed] ${line}`);
  say(`loading demo data through ${url}`);
  const r = await seed({ url, secret: env.JWT_SECRET as string, log: say });
  say(
    `done: ${r.stores.created.length} store(s) and ${r.items.created.length} item(s) created; ` +
      `${r.stores.skipped.length} store(s) and ${r.items.skipped.length} item(s) already there`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: Error) => {
    console.error(`[seed] ${err.message}`);
    process.exit(1);
  });
}
