/**
 * Self-healing under `npm start`: the real start script (infra/local/start.ts)
 * runs as a child process on free ports, with this run's MongoDB and Redis,
 * its own database/queue prefix and its own data dir (RENTAL_DATA_DIR, for
 * the lock file). Processes are killed with SIGKILL; the supervisor must
 * bring each back, serving within 10 seconds, and no event may be lost:
 * reservations made while the stores worker is down, with the reservations
 * API killed right after, all get their store order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/ports.js';
import { REPO_ROOT } from '../../infra/local/paths.js';
import { waitForHttpOk } from '../../infra/local/supervisor.js';
import { day, eventually, removeRunData } from '../support/stack.js';
import { gql, userToken } from './helpers.js';

const PORTS = ['ROUTER_PORT', 'ITEMS_PORT', 'RESERVATIONS_PORT', 'STORES_PORT', 'RENTALS_PORT'] as const;
const ports = {} as Record<(typeof PORTS)[number], number>;
const prefix = `e2e_heal_${randomBytes(4).toString('hex')}`;
let dataDir: string;
let child: ChildProcess;
let exited: Promise<void>;
const output: string[] = [];
let routerUrl: string;

const base = (port: number) => `http://127.0.0.1:${port}`;

/** The pid of a supervised process, from the start lock (`name` as in the output prefix). */
function pidOf(name: string): number | undefined {
  try {
    const lock = JSON.parse(readFileSync(join(dataDir, 'start.lock'), 'utf8')) as { children?: Array<{ name: string; pid: number }> };
    return lock.children?.find((c) => c.name === name)?.pid;
  } catch {
    return undefined;
  }
}

function tail(): string {
  return output.slice(-60).join('\n');
}

beforeAll(async () => {
  for (const p of PORTS) ports[p] = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'rental-start-'));
  routerUrl = `${base(ports.ROUTER_PORT)}/graphql`;
  child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...Object.fromEntries(PORTS.map((p) => [p, String(ports[p])])),
      RENTAL_DATA_DIR: dataDir,
      MONGODB_DB_PREFIX: prefix,
      QUEUE_PREFIX: prefix,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      OUTBOX_SWEEP_MS: '500',
      SUPERGRAPH_WATCH: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => child.once('exit', () => resolve()));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  }
  if (!(await waitForHttpOk(`${base(ports.ROUTER_PORT)}/readyz`, 100_000, () => child.exitCode !== null))) {
    throw new Error(`npm start did not get ready:\n${tail()}`);
  }
  // Workers start before the router; make sure their pids are recorded.
  await eventually(async () => pidOf('stores-worker') && pidOf('reservations-worker'), 20_000, 'worker pids in the lock');
}, 130_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    await exited;
    clearTimeout(timer);
  }
  await removeRunData({ mongoUri: process.env.MONGODB_URI as string, redisUrl: process.env.REDIS_URL, dbPrefix: prefix, queuePrefix: prefix });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** Kills `name` with SIGKILL and resolves with how long until `readyUrl` answered 200 again. */
async function killAndTimeRecovery(name: string, readyUrl: string): Promise<number> {
  const pid = pidOf(name);
  if (!pid) throw new Error(`no pid for ${name}\n${tail()}`);
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  // Wait until the old process is really gone, so the next 200 comes from the new one.
  await eventually(async () => pidOf(name) !== pid, 10_000, `${name} restarted`);
  if (!(await waitForHttpOk(readyUrl, 15_000))) throw new Error(`${name} not serving again\n${tail()}`);
  return Date.now() - killedAt;
}

describe('npm start heals crashed processes', () => {
  it('a subgraph killed with SIGKILL serves again within 10 s; reservations made while the stores worker and then the reservations API are killed all get their store order', async () => {
    const admin = await userToken('ADMIN', 'ada');
    const store = await gql<{ createStore: { id: string } }>(routerUrl, 'mutation { createStore(input: { name: "Heal", city: "Lyon" }) { id } }', { token: admin });
    expect(store.errors).toBeUndefined();
    const storeId = store.data!.createStore.id;
    const staff = await userToken('STAFF', 'stan', storeId);
    const item = await gql<{ registerItem: { id: string } }>(
      routerUrl,
      'mutation ($input: RegisterItemInput!) { registerItem(input: $input) { id } }',
      { token: staff, variables: { input: { storeId, name: 'Camera', category: 'camera', dailyRate: 1000, stock: 20 } } },
    );
    expect(item.errors).toBeUndefined();
    const itemId = item.data!.registerItem.id;

    // 1. A subgraph: items.
    const itemsBack = await killAndTimeRecovery('items', `${base(ports.ITEMS_PORT)}/readyz`);
    expect(itemsBack).toBeLessThan(10_000);
    const read = await gql<{ item: { id: string; stock: number } }>(routerUrl, `{ item(id: "${itemId}") { id stock } }`);
    expect(read.data?.item).toEqual({ id: itemId, stock: 20 });

    // 2. No event lost: the stores worker dies (nothing in flight), reservations are made while it is
    //    down, then the reservations API dies right after answering the last one.
    const storesWorkerPid = pidOf('stores-worker')!;
    process.kill(storesWorkerPid, 'SIGKILL');
    const customer = await userToken('CUSTOMER', 'carol');
    const reservationIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await gql<{ createReservation: { id: string; status: string } }>(
        routerUrl,
        'mutation ($input: CreateReservationInput!) { createReservation(input: $input) { id status } }',
        { token: customer, variables: { input: { itemId, quantity: 1, startDate: day(2), endDate: day(4), paymentToken: 'tok_approve' } } },
      );
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data!.createReservation.status).toBe('CONFIRMED');
      reservationIds.push(res.data!.createReservation.id);
    }
    // Serves again (the 10 s bound is checked on items above; this one is about the events).
    await killAndTimeRecovery('reservations', `${base(ports.RESERVATIONS_PORT)}/readyz`);
    expect(pidOf('stores-worker')).not.toBe(storesWorkerPid);

    const orders = await eventually(
      async () => {
        const res = await gql<{ storeOrders: { edges: Array<{ node: { reservationId: string; status: string } }> } }>(
          routerUrl,
          `{ storeOrders(storeId: "${storeId}") { edges { node { reservationId status } } } }`,
          { token: staff },
        );
        const list = res.data?.storeOrders.edges.map((e) => e.node) ?? [];
        return list.length >= reservationIds.length ? list : undefined;
      },
      40_000,
      'a store order for every reservation',
      250,
    );
    expect(orders.map((o) => o.reservationId).sort()).toEqual([...reservationIds].sort());
    expect(orders.every((o) => o.status === 'PENDING')).toBe(true);
    // The supervisor said so too.
    expect(output.join('\n')).toMatch(/\[items\]\s+serving again \d+ ms after it went down/);
  }, 150_000);
});
