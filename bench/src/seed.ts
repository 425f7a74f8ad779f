/** Seeding through the router's public API: a store, its staff, items, reservations. */
import { randomBytes } from 'node:crypto';
import { sleep } from '../../infra/local/proc.js';
import type { GqlResult, Stack } from './stack.js';

export const CREATE_RESERVATION = `mutation Reserve($i: CreateReservationInput!) {
  createReservation(input: $i) { id status }
}`;

export interface Seeded {
  storeId: string;
  staffToken: string;
}

function must<T>(res: GqlResult<T>, what: string): T {
  if (!res.data) throw new Error(`${what} failed: ${JSON.stringify(res.errors ?? res)}`);
  return res.data;
}

export async function seedStore(stack: Stack, tag: string): Promise<Seeded> {
  const storeId = `${tag}-${randomBytes(3).toString('hex')}`;
  const admin = await stack.token('ADMIN', 'bench-admin');
  must(await stack.gql('mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }', { i: { id: storeId, name: `Bench ${tag}`, city: 'Bench' } }, admin), 'createStore');
  return { storeId, staffToken: await stack.token('STAFF', `staff-${storeId}`, storeId) };
}

export async function seedItem(stack: Stack, store: Seeded, stock: number, name = 'Bench camera'): Promise<string> {
  const data = must(
    await stack.gql<{ registerItem: { id: string } }>(
      'mutation($i: RegisterItemInput!) { registerItem(input: $i) { id } }',
      { i: { storeId: store.storeId, name, category: 'camera', dailyRate: 2500, stock } },
      store.staffToken,
    ),
    'registerItem',
  );
  return data.registerItem.id;
}

export const reservationInput = (itemId: string) => ({
  itemId,
  quantity: 1,
  startDate: '2030-03-01',
  endDate: '2030-03-04',
  paymentToken: 'tok_approve',
});

/**
 * A reservation for seeding (not for measuring): SERVICE_UNAVAILABLE /
 * TRY_LATER (a breaker opened on a busy machine) are retried for up to a minute.
 */
export async function reserve(stack: Stack, token: string, itemId: string): Promise<{ id: string; status: string }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await stack.gql<{ createReservation: { id: string; status: string } }>(CREATE_RESERVATION, { i: reservationInput(itemId) }, token);
    const code = res.errors?.[0]?.extensions?.code;
    if (!res.data && (code === 'SERVICE_UNAVAILABLE' || code === 'TRY_LATER') && Date.now() < deadline) {
      await sleep(1000);
      continue;
    }
    return must(res, 'createReservation').createReservation;
  }
}

/** Every store order of a store (all pages, 100 at a time), by reservation id. */
export async function storeOrders(stack: Stack, store: Seeded): Promise<Map<string, { id: string; status: string; createdAt: string }>> {
  const orders = new Map<string, { id: string; status: string; createdAt: string }>();
  let after: string | null = null;
  for (;;) {
    type Page = {
      storeOrders: {
        edges: Array<{ node: { id: string; reservationId: string; status: string; createdAt: string } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    };
    const page: Page = must(
      await stack.gql<Page>(
        'query($s: ID!, $after: String) { storeOrders(storeId: $s, first: 100, after: $after) { edges { node { id reservationId status createdAt } } pageInfo { hasNextPage endCursor } } }',
        { s: store.storeId, after },
        store.staffToken,
      ),
      'storeOrders',
    );
    for (const { node } of page.storeOrders.edges) orders.set(node.reservationId, node);
    if (!page.storeOrders.pageInfo.hasNextPage) return orders;
    after = page.storeOrders.pageInfo.endCursor;
  }
}

/** Waits until every given reservation has a store order; returns them. */
export async function waitForOrders(stack: Stack, store: Seeded, reservationIds: string[], timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const orders = await storeOrders(stack, store);
    if (reservationIds.every((id) => orders.has(id))) return orders;
    if (Date.now() > deadline) {
      throw new Error(`${reservationIds.filter((id) => !orders.has(id)).length} of ${reservationIds.length} store orders missing after ${timeoutMs} ms`);
    }
    await sleep(200);
  }
}
