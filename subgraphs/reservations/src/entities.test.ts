/**
 * The `Reservation` entity (`_entities`): many representations in one request
 * are one read of the write model, answered in order, with the caller's
 * access rule applied to each (someone else's: null with FORBIDDEN; unknown:
 * null).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoose } from '@rental/db';
import { as, day, startTestSystem, type TestSystem } from './testing.js';

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem();
});
afterAll(async () => {
  await t?.stop();
});

const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Reservation { id customerId storeId status } } }`;

interface Entity {
  id: string;
  customerId: string;
  storeId: string;
  status: string;
}

async function reservationOf(customerId: string, storeId: string): Promise<string> {
  const id = randomUUID();
  await t.api.data.insertPending({
    _id: id,
    customerId,
    itemId: 'item-1',
    itemName: 'Camera',
    storeId,
    quantity: 1,
    startDate: day(1),
    endDate: day(2),
    days: 1,
    requestId: null,
  });
  return id;
}

/** Runs `fn`, counting the reads of the reservations collection that name any of `ids`. */
async function readsOf<T>(ids: string[], fn: () => Promise<T>): Promise<{ result: T; reads: number }> {
  let reads = 0;
  mongoose.set('debug', (collection: string, method: string, ...args: unknown[]) => {
    if (collection !== 'reservations' || !/^find|^aggregate/.test(method)) return;
    const text = JSON.stringify(args);
    if (ids.some((id) => text.includes(id))) reads += 1;
  });
  try {
    return { result: await fn(), reads };
  } finally {
    mongoose.set('debug', false);
  }
}

describe('_entities (Reservation)', () => {
  it('resolves N representations with one read, in order; someone else\'s and an unknown one are null', async () => {
    const a = await reservationOf('carol', 'store-1');
    const b = await reservationOf('carol', 'store-2');
    const foreign = await reservationOf('dave', 'store-1');
    const unknown = randomUUID();
    const order = [b, unknown, a, foreign, b];
    const { result: res, reads } = await readsOf(order, () =>
      t.gql<{ _entities: Array<Entity | null> }>(ENTITIES, { reps: order.map((id) => ({ __typename: 'Reservation', id })) }, as.customer('carol')),
    );
    expect(reads).toBe(1);
    expect(res.data?._entities.map((e) => e?.id ?? null)).toEqual([b, null, a, null, b]);
    expect(res.data?._entities[2]).toEqual({ id: a, customerId: 'carol', storeId: 'store-1', status: 'PENDING' });
    // Only the foreign one is an error: FORBIDDEN at its place; the unknown one is simply null.
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['_entities', 3], 'FORBIDDEN']]);
  });

  it('applies each caller\'s access: staff see their store\'s, an admin all, still one read', async () => {
    const a = await reservationOf('erin', 'store-5');
    const b = await reservationOf('fred', 'store-6');
    const c = await reservationOf('gina', 'store-5');
    const reps = [a, b, c].map((id) => ({ __typename: 'Reservation', id }));
    const staff = await readsOf([a, b, c], () => t.gql<{ _entities: Array<Entity | null> }>(ENTITIES, { reps }, as.staff('store-5')));
    expect(staff.reads).toBe(1);
    expect(staff.result.data?._entities.map((e) => e?.id ?? null)).toEqual([a, null, c]);
    const admin = await readsOf([a, b, c], () => t.gql<{ _entities: Array<Entity | null> }>(ENTITIES, { reps }, as.admin));
    expect(admin.reads).toBe(1);
    expect(admin.result.errors).toBeUndefined();
    expect(admin.result.data?._entities.map((e) => e?.id ?? null)).toEqual([a, b, c]);
  });
});
