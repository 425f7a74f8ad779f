/**
 * Gateway overhead: one query that spans all four subgraphs, under the same
 * load, through
 *   1. our router (JWT check, identity signing, limits, metrics),
 *   2. (b) a plain `@apollo/gateway` in `@apollo/server` standalone,
 *   3. (c) `@graphql-hive/gateway`,
 * all on the same supergraph and the same subgraph processes, with autocannon;
 * and (a) straight to the subgraphs: the client makes the calls the query
 * planner makes, itself (see DIRECT_PLAN), measured per complete answer by a
 * closed-loop keep-alive client; the router is measured with that same client
 * too, so (a) has a like-for-like row. A last row is the owning subgraph's
 * query alone (reservations, one call, autocannon): the floor.
 */
import { isDeepStrictEqual } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IDENTITY_HEADER, InternalIdentitySigner, type Identity } from '@rental/auth';
import { freePort } from '../../infra/local/ports.js';
import { REPO_ROOT } from '../../infra/local/paths.js';
import type { ServerProcess } from '../../infra/local/proc.js';
import { LOAD_COLUMNS, autocannonPost, closedLoop, httpClient, loadRow, withSubgraphCalls, type LoadFigures, type LoadShape } from './load.js';
import type { BenchResult } from './report.js';
import { reserve, seedItem, seedStore, waitForOrders } from './seed.js';
import { SUBGRAPHS, type Stack } from './stack.js';

export interface GatewayOptions extends LoadShape {
  /** Which targets to measure (default all). */
  targets?: string[];
}

export const QUERY = `query Bench($id: ID!) {
  reservation(id: $id) {
    status
    item { name stock store { name } }
    storeOrder { status }
    rental { status payment { amount } }
  }
}`;

/**
 * (a) The same data straight from the subgraphs, as the query planner fetches
 * it (5 calls, 3 deep): reservations → in parallel { items → stores (Item.store
 * needs items' storeId), stores (Reservation.storeOrder), rentals
 * (Reservation.rental) }, then the client assembles the answer.
 */
const DIRECT_PLAN = {
  reservation: 'query($id: ID!) { reservation(id: $id) { __typename id status item { __typename id } } }',
  item: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { name stock storeId } } }',
  itemStore: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { store { name } } } }',
  storeOrder: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { storeOrder { status } } } }',
  rental: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { rental { status payment { amount } } } } }',
};

/** The supergraph with its `@join__graph` URLs pointing at this stack's subgraphs (for the comparison gateways). */
function benchSupergraph(stack: Stack): string {
  let sdl = fs.readFileSync(path.join(REPO_ROOT, 'schema/supergraph.graphql'), 'utf8');
  for (const name of SUBGRAPHS) {
    sdl = sdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*(")`), `$1${stack.subgraphUrls[name]}$2`);
  }
  const file = path.join(stack.dir, 'supergraph.bench.graphql');
  fs.writeFileSync(file, sdl);
  return file;
}

type Json = Record<string, unknown>;
const parse = (text: string) => JSON.parse(text) as { data?: Json | null; errors?: unknown[] };

export async function benchGateway(stack: Stack, opts: GatewayOptions): Promise<BenchResult> {
  const notes: string[] = [];
  const shape: LoadShape = { connections: opts.connections, durationSec: opts.durationSec, warmupSec: opts.warmupSec };
  const wanted = (t: string) => !opts.targets || opts.targets.includes(t);

  // Seed: one confirmed reservation with its store order and rental.
  const store = await seedStore(stack, 'gw');
  const itemId = await seedItem(stack, store, 1000, 'Bench gateway camera');
  const customerSub = 'bench-gw-customer';
  const customer = await stack.token('CUSTOMER', customerSub);
  const { id: reservationId } = await reserve(stack, customer, itemId);
  await waitForOrders(stack, store, [reservationId]);
  const body = JSON.stringify({ query: QUERY, variables: { id: reservationId }, operationName: 'Bench' });

  const viaRouter = await stack.gql<Json>(QUERY, { id: reservationId }, customer);
  if (viaRouter.errors || !viaRouter.data) throw new Error(`the benchmark query failed through the router: ${JSON.stringify(viaRouter)}`);
  const expected = viaRouter.data;

  /** Checks a target's answer before loading it; returns the exact body to expect. */
  const check = async (target: string, url: string, headers: Record<string, string>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await res.text();
    const parsed = parse(text);
    if (res.status !== 200 || parsed.errors || !isDeepStrictEqual(parsed.data, expected)) {
      throw new Error(`${target}: unexpected answer (HTTP ${res.status}): ${text.slice(0, 400)}`);
    }
    return text;
  };

  const identity: Identity = { sub: customerSub, role: 'CUSTOMER' };
  const signer = new InternalIdentitySigner(stack.env.INTERNAL_JWT_SECRET as string, 'router');
  const figures: LoadFigures[] = [];
  const failures: Array<{ target: string; why: string }> = [];
  const say = (line: string) => console.log(`[gateway] ${line}`);
  const subgraphUrls = SUBGRAPHS.map((n) => stack.subgraphUrls[n]);
  const counted = (measure: () => Promise<LoadFigures>) => withSubgraphCalls(subgraphUrls, measure);

  // 1. Our router.
  if (wanted('router')) {
    say('router…');
    const headers = { authorization: `Bearer ${customer}` };
    const expectBody = await check('router', stack.routerUrl, headers);
    figures.push(await counted(() => autocannonPost('our router', stack.routerUrl, headers, body, expectBody, shape)));
  }

  // 2 and 3: the comparison gateways, each a child process started for its run.
  const supergraphFile = benchSupergraph(stack);
  const comparison = async (target: string, label: string, entry: string, extraEnv: Record<string, string> = {}) => {
    if (!wanted(target)) return;
    say(`${label}…`);
    const port = await freePort();
    let proc: ServerProcess | undefined;
    try {
      proc = stack.spawn(target, entry, {
        BENCH_SUPERGRAPH: supergraphFile,
        BENCH_PORT: String(port),
        BENCH_IDENTITY: JSON.stringify(identity),
        ...extraEnv,
      });
      const url = `http://127.0.0.1:${port}/graphql`;
      const deadline = Date.now() + 60_000;
      let expectBody: string | undefined;
      let lastError: unknown;
      while (!expectBody && Date.now() < deadline && !proc.hasExited) {
        try {
          expectBody = await check(label, url, {});
        } catch (err) {
          lastError = err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      if (!expectBody) throw new Error(`${(lastError as Error)?.message ?? 'did not start'}\n${proc.lastOutput()}`);
      const expectText = expectBody;
      figures.push(await counted(() => autocannonPost(label, url, {}, body, expectText, shape)));
    } catch (err) {
      const why = (err as Error).message;
      failures.push({ target: label, why });
      notes.push(`${label}: not measured: ${why.split('\n').slice(0, 6).join(' ')}`);
      say(`${label} failed: ${why}`);
    } finally {
      await proc?.stop(10_000);
    }
  };
  await comparison('plain-gateway', '(b) plain @apollo/gateway 2.14.4', 'bench/src/servers/plain-gateway.ts');
  await comparison('hive-gateway', '(c) @graphql-hive/gateway 2.15.1 (defaults)', 'bench/src/servers/hive-gateway.ts');
  await comparison('hive-gateway-nodedupe', '(c) @graphql-hive/gateway 2.15.1, in-flight dedup off', 'bench/src/servers/hive-gateway.ts', {
    BENCH_HIVE_DEDUPE: 'off',
  });

  // (a) Direct: the client runs the plan itself; and our router through the same client.
  if (wanted('direct')) {
    say('direct to the subgraphs…');
    const client = httpClient(opts.connections * 2);
    const urls = stack.subgraphUrls;
    const call = async (url: string, query: string, variables: Json): Promise<Json> => {
      const res = await client.post(url, JSON.stringify({ query, variables }), { [IDENTITY_HEADER]: await signer.sign(identity) });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const parsed = parse(res.text);
      if (parsed.errors || !parsed.data) throw new Error(`errors: ${JSON.stringify(parsed.errors).slice(0, 120)}`);
      return parsed.data;
    };
    const entity = (data: Json) => (data._entities as Json[])[0] as Json;
    const direct = async (): Promise<string | undefined> => {
      const r = (await call(urls.reservations, DIRECT_PLAN.reservation, { id: reservationId })).reservation as Json;
      const item = r.item as Json;
      const resRep = [{ __typename: 'Reservation', id: r.id }];
      const [itemPart, orderPart, rentalPart] = await Promise.all([
        (async () => {
          const i = entity(await call(urls.items, DIRECT_PLAN.item, { r: [{ __typename: 'Item', id: item.id }] }));
          const s = entity(await call(urls.stores, DIRECT_PLAN.itemStore, { r: [{ __typename: 'Item', id: item.id, storeId: i.storeId }] }));
          return { name: i.name, stock: i.stock, store: s.store };
        })(),
        call(urls.stores, DIRECT_PLAN.storeOrder, { r: resRep }).then(entity),
        call(urls.rentals, DIRECT_PLAN.rental, { r: resRep }).then(entity),
      ]);
      const answer = { reservation: { status: r.status, item: itemPart, storeOrder: orderPart.storeOrder, rental: rentalPart.rental } };
      return isDeepStrictEqual(answer, expected) ? undefined : 'assembled answer differs from the router’s';
    };
    const first = await direct();
    if (first) throw new Error(`direct plan: ${first}`);
    figures.push(await counted(() => closedLoop('(a) direct to subgraphs: 5 calls, client-side plan', shape, direct)));
    const routerClient = httpClient(opts.connections);
    const expectedText = await check('router', stack.routerUrl, { authorization: `Bearer ${customer}` });
    figures.push(
      await counted(() =>
        closedLoop('our router, same client as (a)', shape, async () => {
          const res = await routerClient.post(stack.routerUrl, body, { authorization: `Bearer ${customer}` });
          return res.status === 200 && res.text === expectedText ? undefined : `HTTP ${res.status}: ${res.text.slice(0, 80)}`;
        }),
      ),
    );
    client.close();
    routerClient.close();

    say('owning subgraph alone…');
    const alone = JSON.stringify({ query: DIRECT_PLAN.reservation, variables: { id: reservationId } });
    // One token for the whole run (warm-up + duration < its 60 s life).
    const headers = { [IDENTITY_HEADER]: await signer.sign(identity) };
    const res = await fetch(urls.reservations, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: alone });
    const aloneText = await res.text();
    if (res.status !== 200 || parse(aloneText).errors) throw new Error(`reservations subgraph alone: ${aloneText.slice(0, 300)}`);
    figures.push(await counted(() => autocannonPost('reservations subgraph alone (1 of the 5 calls)', urls.reservations, headers, alone, aloneText, shape)));
  }

  for (const f of figures) if (f.errorDetail) notes.push(`${f.target}: ${f.errorDetail}`);
  return {
    name: 'gateway',
    title: 'Gateway: one query across all four subgraphs',
    description:
      'autocannon (HTTP/1.1 keep-alive, POST) on `reservation(id) { status item { name stock store { name } } storeOrder { status } rental { status payment { amount } } }` ' +
      '(a customer reading their confirmed reservation; 5 subgraph fetches, 3 deep) through our router, a plain @apollo/gateway and @graphql-hive/gateway on the same supergraph and subgraph processes. ' +
      '(a) runs the same 5 subgraph calls from the client (reservations; then items→stores(Item.store), stores(Reservation.storeOrder), rentals in parallel) with a closed-loop keep-alive client, one iteration = one complete answer; ' +
      'our router is measured with that client too for a like-for-like row. Every answer is checked against the router’s (a differing body counts as an error). ' +
      'The comparison gateways forward one fixed customer identity (no JWT check), re-signed as it ages.',
    parameters: { connections: opts.connections, durationSec: opts.durationSec, warmupSec: opts.warmupSec, query: 'reservation(id) across 4 subgraphs' },
    tables: [{ columns: LOAD_COLUMNS, rows: figures.map(loadRow) }],
    notes: [
      ...notes,
      'Hive Gateway merges identical subgraph queries that are in flight at once (its HTTP transport\'s deduplicateInflightRequests, on by default); with 20 connections sending the same query that saves most fetches, so it has a second row with it off.',
      '"subgraph calls / request": GraphQL operations the four subgraphs counted (their /metrics) during the target\'s warm-up and run (until they stop counting), per request sent: how many fetches each target makes for the same query.',
      `The gateways, the subgraphs, the workers, the database, Redis and the load generator share this machine's ${os.cpus().length} cores: figures compare targets on one machine, they are not capacity numbers.`,
    ],
    data: { figures: figures.map(({ bins: _bins, ...f }) => f), failures, query: QUERY, directPlan: DIRECT_PLAN },
    charts: [{ kind: 'latency-histogram', name: 'latency', title: 'Answer latency per target', series: figures.map((f) => ({ target: f.target, bins: f.bins ?? [] })) }],
    ok: figures.length > 0,
  };
}
