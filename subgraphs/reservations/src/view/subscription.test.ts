/**
 * `reservationStatus` over a real graphql-ws client straight to the
 * reservations subgraph (router-signed identity in connectionParams), with the
 * real worker projecting events from the queue and Redis pub/sub between them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { signInternalIdentity, type Identity } from '@rental/auth';
import { createEvent, type DomainEvent } from '@rental/events';
import { as, eventually, startTestSystem, type TestSystem } from '../testing.js';
import { createLogger } from '@rental/observability';
import type { ViewData } from '../data/view-data.js';
import { customerChannel, reservationChannel } from './feed.js';
import { UpdateStream, type StreamOptions } from './subscription.js';
import { viewPushDelay } from './metrics.js';

/** How many live pushes `reservations_view_push_seconds` has timed so far. */
const pushesTimed = async () => (await viewPushDelay.get()).values.find((v) => v.metricName === 'reservations_view_push_seconds_count')?.value ?? 0;

let t: TestSystem;
let redis: Redis;
const clients: Client[] = [];
beforeAll(async () => {
  t = await startTestSystem({ withWorker: true });
  redis = new Redis(t.config.REDIS_URL);
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  redis?.disconnect();
  await t?.stop();
});

/** `onClosed` given: the socket is kept open even with no subscription (not lazy), so a close can only come from the server. */
function connect(identity: Identity, onClosed?: (code: number) => void): Client {
  const c = createClient({
    url: t.api.url.replace('http://', 'ws://'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: !onClosed,
    onNonLazyError: () => {},
    connectionParams: async () => ({ identity: await signInternalIdentity(identity, t.secret, 'router'), requestId: randomUUID() }),
    on: { closed: (e) => onClosed?.((e as { code: number }).code) },
  });
  clients.push(c);
  return c;
}

const SUB = `subscription S($id: ID, $since: Int, $seq: Int) {
  reservationStatus(reservationId: $id, sinceVersion: $since, sinceSequence: $seq) {
    version sequence
    reservation { id status customerId itemName quantity item { id } storeOrderStatus rentalStatus history { status } }
  }
}`;

interface Update {
  version: number;
  sequence: number;
  reservation: { id: string; status: string; customerId: string; itemName: string };
}
interface Watch {
  updates: Update[];
  errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
  completed: boolean;
  stop(): void;
}

/** Subscribes and resolves once the subgraph listens (a short settle: graphql-ws has no "subscribed" ack). */
async function watch(c: Client, variables: Record<string, unknown>): Promise<Watch> {
  const w: Watch = { updates: [], errors: [], completed: false, stop: () => {} };
  w.stop = c.subscribe<{ reservationStatus: Update }>(
    { query: SUB, variables },
    {
      next: (v) => {
        if (v.data?.reservationStatus) w.updates.push(v.data.reservationStatus);
        if (v.errors) w.errors.push(...(v.errors as Watch['errors']));
      },
      error: (e) => w.errors.push(...(Array.isArray(e) ? e : [{ message: String(e) }])),
      complete: () => (w.completed = true),
    },
  );
  await new Promise((r) => setTimeout(r, 300));
  return w;
}

async function deliver(...events: DomainEvent[]): Promise<void> {
  const queue = t.bus.queue('reservations');
  for (const e of events) await queue.add(e.type, e, { jobId: `${e.eventId}-${randomUUID()}` });
}

async function reservation(customer = as.customer('sue')): Promise<{ id: string; itemId: string }> {
  const itemId = await t.registerItem({ name: 'Projector', stock: 5 });
  const res = await t.create(itemId, {}, customer);
  if (!res.data?.createReservation) throw new Error(JSON.stringify(res.errors));
  const id = res.data.createReservation.id;
  await eventually(async () => (await t.api.views.get(id))?.version === 1);
  return { id, itemId };
}

const prepared = (reservationId: string) => createEvent('StoreOrderPrepared', { orderId: `o-${reservationId}`, reservationId, storeId: 'store-1' });
const started = (reservationId: string) => createEvent('RentalStarted', { rentalId: `r-${reservationId}`, reservationId });
const returned = (reservationId: string, itemId: string) => createEvent('RentalReturned', { rentalId: `r-${reservationId}`, reservationId, itemId, quantity: 1 });
const orderCreated = (reservationId: string) => createEvent('StoreOrderCreated', { orderId: `o-${reservationId}`, reservationId, storeId: 'store-1' });

const statuses = (w: Watch) => w.updates.map((u) => `${u.version}:${u.reservation.status}`);

describe('reservationStatus subscription', () => {
  it('pushes every change of a reservation live, in order, with the view\'s fields', async () => {
    const sue = as.customer('sue');
    const { id, itemId } = await reservation(sue);
    const w = await watch(connect(sue), { id });
    await deliver(prepared(id));
    await eventually(async () => w.updates.length === 1);
    await deliver(started(id));
    await eventually(async () => w.updates.length === 2);
    await deliver(returned(id, itemId));
    await eventually(async () => w.updates.length === 3);
    expect(statuses(w)).toEqual(['2:READY_FOR_PICKUP', '3:RENTED', '4:RETURNED']);
    expect(w.updates[2]!.reservation).toMatchObject({ id, customerId: 'sue', itemName: 'Projector', rentalStatus: 'RETURNED', storeOrderStatus: 'HANDED_OVER' });
    expect(w.errors).toEqual([]);
    w.stop();
  });

  it('staff of the store may follow it; another customer gets nothing of it', async () => {
    const { id } = await reservation(as.customer('sue'));
    const staff = await watch(connect(as.staff('store-1')), { id });
    const otherAll = await watch(connect(as.customer('tom')), {});
    const sueAll = await watch(connect(as.customer('sue')), {});
    await deliver(prepared(id));
    await eventually(async () => staff.updates.length === 1 && sueAll.updates.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(statuses(staff)).toEqual(['2:READY_FOR_PICKUP']);
    expect(sueAll.updates[0]!.reservation.id).toBe(id);
    expect(otherAll.updates).toEqual([]);
    expect(otherAll.errors).toEqual([]);
    for (const w of [staff, otherAll, sueAll]) w.stop();
  });

  it("someone else's or an unknown reservation is an error for that subscription; the socket stays open for others", async () => {
    const { id } = await reservation(as.customer('sue'));
    let closed: number | undefined;
    const tom = connect(as.customer('tom'), (code) => (closed = code));
    const forbidden = await watch(tom, { id });
    await eventually(async () => forbidden.errors.length > 0);
    expect(forbidden.errors[0]!.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const unknown = await watch(tom, { id: randomUUID() });
    await eventually(async () => unknown.errors.length > 0);
    expect(unknown.errors[0]!.extensions).toMatchObject({ code: 'NOT_FOUND' });
    const bad = await watch(tom, { id, since: -1 });
    await eventually(async () => bad.errors.length > 0);
    expect(bad.errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sinceVersion' });
    const otherStaff = await watch(connect(as.staff('store-9')), { id });
    await eventually(async () => otherStaff.errors.length > 0);
    expect(otherStaff.errors[0]!.extensions).toMatchObject({ code: 'FORBIDDEN' });
    // A service identity follows no one's reservation (mayViewReservation, @rental/auth).
    const service = await watch(connect({ sub: 'rentals', role: 'SERVICE' }), { id });
    await eventually(async () => service.errors.length > 0);
    expect(service.errors[0]!.extensions).toMatchObject({ code: 'FORBIDDEN' });
    // The same socket still serves tom's own reservation.
    const own = await reservation(as.customer('tom'));
    const ok = await watch(tom, { id: own.id });
    await deliver(prepared(own.id));
    await eventually(async () => ok.updates.length === 1);
    expect(statuses(ok)).toEqual(['2:READY_FOR_PICKUP']);
    expect(closed).toBeUndefined();
    ok.stop();
  });

  it('reconnecting with sinceVersion replays exactly the missed changes once, in order, then goes live', async () => {
    const sue = as.customer('sue');
    const { id, itemId } = await reservation(sue);
    const first = connect(sue);
    const w1 = await watch(first, { id });
    await deliver(orderCreated(id));
    await eventually(async () => w1.updates.length === 1);
    const last = w1.updates[0]!.version;
    expect(last).toBe(2);
    await first.dispose();
    // Two changes while disconnected.
    await deliver(prepared(id));
    await eventually(async () => (await t.api.views.get(id))?.version === 3);
    await deliver(started(id));
    await eventually(async () => (await t.api.views.get(id))?.version === 4);
    const timed = await pushesTimed();
    const w2 = await watch(connect(sue), { id, since: last });
    await eventually(async () => w2.updates.length === 2);
    // Replayed changes are old on purpose: the push metric times live ones only.
    expect((await pushesTimed()) - timed).toBe(0);
    await deliver(returned(id, itemId));
    await eventually(async () => w2.updates.length === 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(statuses(w2)).toEqual(['3:READY_FOR_PICKUP', '4:RENTED', '5:RETURNED']);
    expect((await pushesTimed()) - timed).toBe(1);
    w2.stop();
  });

  it('sinceVersion while changes keep coming: no version twice, none skipped, in order', async () => {
    const sue = as.customer('sue');
    const { id, itemId } = await reservation(sue);
    // Changes race with the replay of the subscription.
    const pending = deliver(orderCreated(id), prepared(id), started(id), returned(id, itemId));
    const w = await watch(connect(sue), { id, since: 0 });
    await pending;
    // The worker may take the four events in any order; wait for the view to settle, then compare with it.
    await eventually(async () => (await t.api.views.get(id))?.status === 'RETURNED', 15_000, 'the view reaches RETURNED');
    const final = (await t.api.views.get(id))!.version;
    // On a timeout the assertion below shows what did arrive.
    await eventually(async () => w.updates.length >= final, 10_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.updates.map((u) => u.version)).toEqual(Array.from({ length: final }, (_, i) => i + 1));
    expect(final).toBe(5);
    w.stop();
  });

  it('the all-reservations mode resumes with sinceSequence', async () => {
    const ann = as.customer(`ann-${randomUUID().slice(0, 6)}`);
    const a = await reservation(ann);
    const b = await reservation(ann);
    const seq = (await t.api.views.get(a.id))!.sequence!;
    const w = await watch(connect(ann), { seq: seq - 1 });
    await eventually(async () => w.updates.length === 2);
    expect(w.updates.map((u) => [u.reservation.id, u.version])).toEqual([
      [a.id, 1],
      [b.id, 1],
    ]);
    await deliver(prepared(b.id));
    await eventually(async () => w.updates.length === 3);
    expect(w.updates[2]).toMatchObject({ version: 2, reservation: { id: b.id, status: 'READY_FOR_PICKUP' } });
    expect(w.updates[2]!.sequence).toBeGreaterThan(w.updates[1]!.sequence);
    w.stop();
  });

  it('releases the Redis subscriptions when the client unsubscribes or disconnects', async () => {
    const sue = as.customer('sue');
    const { id } = await reservation(sue);
    const channels = [reservationChannel(t.queuePrefix, id), customerChannel(t.queuePrefix, 'sue')];
    const numsub = async () => {
      const reply = (await redis.pubsub('NUMSUB', ...channels)) as Array<string | number>;
      return [Number(reply[1]), Number(reply[3])];
    };
    const c = connect(sue);
    const one = await watch(c, { id });
    const all = await watch(c, {});
    expect(await numsub()).toEqual([1, 1]);
    one.stop();
    await eventually(async () => (await numsub())[0] === 0);
    expect(t.api.feed.channels()).toContain(channels[1]);
    await c.dispose();
    await eventually(async () => (await numsub())[1] === 0);
    expect(t.api.feed.channels().filter((ch) => channels.includes(ch))).toEqual([]);
    expect(all.errors).toEqual([]);
  });

  it('refuses a socket without the router-signed identity (4403)', async () => {
    let code: number | undefined;
    const c = createClient({
      url: t.api.url.replace('http://', 'ws://'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { identity: 'forged' },
      on: { closed: (e) => (code = (e as { code: number }).code) },
    });
    clients.push(c);
    const w = await watch(c, {});
    await eventually(async () => code !== undefined);
    expect(code).toBe(4403);
    expect(w.updates).toEqual([]);
  });
});

describe('a stream ends with an error it can be resumed from, never stalls or buffers without bound', () => {
  const quiet = createLogger('stream-test', 'silent');
  /** A reservation-mode stream on the real feed and view data (or `data` instead). */
  const open = (id: string, extra: Partial<StreamOptions> = {}) =>
    UpdateStream.open({
      feed: t.api.feed,
      data: t.api.views,
      // Read only in the all-reservations mode.
      sequences: { current: async () => 0 },
      channel: reservationChannel(t.api.feed.prefix, id),
      logger: quiet,
      allowed: (s) => s.reservationId === id,
      scope: { reservationId: id, sinceVersion: 0 },
      ...extra,
    });

  it('a catch-up that cannot read the change log ends the stream with SERVICE_UNAVAILABLE and where to resume', async () => {
    const { id } = await reservation();
    // The change log fails to read (the database answered an error); everything else is the real view data.
    const unreadable = Object.assign(Object.create(t.api.views) as ViewData, {
      changesOf: async () => {
        throw new Error('change log unreadable');
      },
    });
    const stream = await open(id, { data: unreadable });
    await expect(stream.next()).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      details: { resumeFrom: { reservationId: id, sinceVersion: 0 } },
    });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    // Resuming from there on a readable log replays what the failed one never sent.
    const resumed = await open(id);
    expect((await resumed.next()).value).toMatchObject({ reservationId: id, version: 1 });
    await resumed.return();
  });

  it('a consumer more than maxQueued changes behind gets the queued ones, then TRY_LATER with where to resume', async () => {
    const { id } = await reservation();
    const stream = await open(id, { maxQueued: 2 });
    // Nobody reads while three more changes come (versions 2, 3, 4).
    await deliver(orderCreated(id), prepared(id), started(id));
    await eventually(async () => (await t.api.views.get(id))?.version === 4);
    const queuedUpTo = () => {
      const from = stream.resumeFrom();
      return 'sinceVersion' in from ? from.sinceVersion : 0;
    };
    await eventually(async () => queuedUpTo() >= 3);
    const versions: number[] = [];
    let failure: unknown;
    for (;;) {
      try {
        const r = await stream.next();
        if (r.done) break;
        versions.push(r.value.version);
      } catch (err) {
        failure = err;
        break;
      }
    }
    expect(versions).toEqual([1, 2, 3]);
    expect(failure).toMatchObject({ code: 'TRY_LATER', details: { resumeFrom: { reservationId: id, sinceVersion: 3 } } });
    const resumed = await open(id, { scope: { reservationId: id, sinceVersion: 3 } });
    expect((await resumed.next()).value).toMatchObject({ version: 4 });
    await resumed.return();
  });
});
