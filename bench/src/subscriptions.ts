/**
 * Subscription fan-out through the router (issue 4): `subscribers` graphql-ws
 * clients (one WebSocket each) subscribe to
 * `reservationStatus(reservationId, sinceVersion: 0) { version reservation { status } }`,
 * spread over `reservations` reservations of as many customers (each
 * subscriber uses its reservation's customer token). `sinceVersion: 0`
 * replays the reservation's history first, which tells us the subscription
 * is live. Then staff drive every reservation through prepareOrder
 * (→ READY_FOR_PICKUP), startRental (→ RENTED) and returnRental
 * (→ RETURNED); each delivery is timed from the mutation's answer to the
 * subscriber's message carrying that status.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { sleep } from '../../infra/local/proc.js';
import { ms, summarize, type BenchResult } from './report.js';
import { pool } from './load.js';
import { reserve, seedItem, seedStore, waitForOrders } from './seed.js';
import type { Stack } from './stack.js';

export interface SubscriptionsOptions {
  subscribers: number;
  /** Reservations the subscribers are spread over (default min(50, subscribers)). */
  reservations?: number;
}

const SUBSCRIPTION = `subscription Watch($id: ID!) {
  reservationStatus(reservationId: $id, sinceVersion: 0) { version reservation { status } }
}`;

const CHANGES = [
  { status: 'READY_FOR_PICKUP', mutation: 'prepareOrder' },
  { status: 'RENTED', mutation: 'startRental' },
  { status: 'RETURNED', mutation: 'returnRental' },
] as const;

interface Subscriber {
  reservationId: string;
  client: Client;
  openedAt: number;
  firstMessageAt?: number;
  received: Map<string, number>;
  errors: string[];
  completed: boolean;
}

export async function benchSubscriptions(stack: Stack, opts: SubscriptionsOptions): Promise<BenchResult> {
  const nRes = Math.min(opts.reservations ?? 50, opts.subscribers);
  const base = {
    name: 'subscriptions',
    title: 'Subscriptions: reservation changes to N subscribers through the router',
    description:
      `${opts.subscribers} graphql-ws clients (one WebSocket each) through the router, subscribed to reservationStatus(reservationId, sinceVersion: 0) over ${nRes} reservations; ` +
      'staff drive each reservation through prepareOrder, startRental and returnRental; each delivery is timed from the mutation’s answer to the subscriber’s message with the new status.',
    parameters: { subscribers: opts.subscribers, reservations: nRes, connectionsPerSubscriber: 1 },
  };

  // Does the router's API have the subscription yet?
  const probe = await stack.gql<{ __type: { fields: Array<{ name: string }> } | null }>('{ __type(name: "Subscription") { fields { name } } }');
  const hasField = probe.data?.__type?.fields?.some((f) => f.name === 'reservationStatus');
  if (!hasField) {
    const why =
      probe.errors?.length && !probe.data
        ? `the router refused introspection (${probe.errors[0]?.message}); trying anyway`
        : 'the supergraph served by the router has no Subscription.reservationStatus yet (issue 4 not landed): not measured';
    if (!probe.errors?.length || probe.data) {
      return { ...base, tables: [], notes: [why], data: { skipped: why }, ok: false };
    }
    console.log(`[subscriptions] ${why}`);
  }

  const store = await seedStore(stack, 'subs');
  const itemId = await seedItem(stack, store, nRes + 5, 'Bench live camera');
  const customers = await Promise.all(Array.from({ length: nRes }, (_, i) => stack.token('CUSTOMER', `bench-subs-${i}`)));
  const reservationIds: string[] = [];
  await pool(nRes, 10, async (i) => {
    reservationIds[i] = (await reserve(stack, customers[i] as string, itemId)).id;
  });
  const orders = await waitForOrders(stack, store, reservationIds);
  const wsUrl = stack.routerUrl.replace(/^http/, 'ws');

  // Subscribe, in batches, and wait for each replay (the CONFIRMED state).
  console.log(`[subscriptions] opening ${opts.subscribers} subscribers over ${nRes} reservations…`);
  const subs: Subscriber[] = [];
  for (let i = 0; i < opts.subscribers; i++) {
    const r = i % nRes;
    const reservationId = reservationIds[r] as string;
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${customers[r]}` },
      retryAttempts: 0,
      lazy: true,
    });
    const sub: Subscriber = { reservationId, client, openedAt: Date.now(), received: new Map(), errors: [], completed: false };
    subs.push(sub);
    client.subscribe<{ reservationStatus: { version: number; reservation: { status: string } } }>(
      { query: SUBSCRIPTION, variables: { id: reservationId } },
      {
        next: (msg) => {
          const now = Date.now();
          sub.firstMessageAt ??= now;
          const status = msg.data?.reservationStatus.reservation.status;
          if (status && !sub.received.has(status)) sub.received.set(status, now);
          if (msg.errors) sub.errors.push(msg.errors[0]?.message ?? 'error');
        },
        error: (err) => sub.errors.push(err instanceof Error ? err.message : JSON.stringify(err).slice(0, 200)),
        complete: () => (sub.completed = true),
      },
    );
    if (i % 50 === 49) await sleep(50);
  }
  const readyDeadline = Date.now() + 180_000;
  while (Date.now() < readyDeadline && subs.some((s) => s.firstMessageAt === undefined && s.errors.length === 0)) await sleep(100);
  const ready = subs.filter((s) => s.firstMessageAt !== undefined);
  const notReady = subs.length - ready.length;
  const firstErrors = [...new Set(subs.flatMap((s) => s.errors))].slice(0, 3);
  if (ready.length === 0) {
    await Promise.all(subs.map((s) => s.client.dispose()));
    return {
      ...base,
      tables: [],
      notes: [`no subscriber received its replay within 180 s; errors: ${firstErrors.join('; ') || 'none'}`],
      data: { notReady, firstErrors },
      ok: false,
    };
  }
  const subscribeTimes = ready.map((s) => (s.firstMessageAt as number) - s.openedAt);

  // Drive the changes: all reservations through each step, 5 at a time.
  const answeredAt = new Map<string, number>();
  const key = (reservationId: string, status: string) => `${reservationId}|${status}`;
  const rentalIds = new Map<string, string>();
  const mutationErrors: string[] = [];
  const staff = store.staffToken;
  const perform = async (reservationId: string, step: (typeof CHANGES)[number]) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      let res;
      if (step.mutation === 'prepareOrder') {
        res = await stack.gql('mutation($o: ID!) { prepareOrder(orderId: $o) { id status } }', { o: orders.get(reservationId)?.id }, staff);
      } else if (step.mutation === 'startRental') {
        res = await stack.gql<{ startRental: { id: string } }>('mutation($r: ID!) { startRental(reservationId: $r) { id status } }', { r: reservationId }, staff);
        if (res.data) rentalIds.set(reservationId, res.data.startRental.id);
      } else {
        res = await stack.gql('mutation($r: ID!) { returnRental(rentalId: $r) { id status } }', { r: rentalIds.get(reservationId) }, staff);
      }
      if (res.data) {
        answeredAt.set(key(reservationId, step.status), Date.now());
        return;
      }
      // The rental learns readiness from an event: retry INVALID_STATE for a while.
      if (res.errors?.[0]?.extensions?.code === 'INVALID_STATE' && attempt < 99) {
        await sleep(50);
        continue;
      }
      mutationErrors.push(`${step.mutation}: ${res.errors?.[0]?.message ?? res.status}`);
      return;
    }
  };
  console.log(`[subscriptions] ${ready.length} subscribers live; driving ${CHANGES.length} changes × ${nRes} reservations…`);
  for (const step of CHANGES) {
    await pool(nRes, 5, (i) => perform(reservationIds[i] as string, step));
    // Let this step's deliveries arrive before the next step (at most 20 s).
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ready.some((s) => answeredAt.has(key(s.reservationId, step.status)) && !s.received.has(step.status))) await sleep(50);
  }

  const latencies: number[] = [];
  const perStatus = new Map<string, number[]>();
  let missing = 0;
  let early = 0;
  for (const s of ready) {
    for (const step of CHANGES) {
      const answered = answeredAt.get(key(s.reservationId, step.status));
      if (answered === undefined) continue;
      const got = s.received.get(step.status);
      if (got === undefined) {
        missing++;
        continue;
      }
      const d = got - answered;
      if (d < 0) early++;
      latencies.push(Math.max(0, d));
      perStatus.set(step.status, [...(perStatus.get(step.status) ?? []), Math.max(0, d)]);
    }
  }
  await Promise.all(subs.map((s) => s.client.dispose()));

  const all = summarize(latencies);
  const sub = summarize(subscribeTimes);
  const row = (label: string, s: ReturnType<typeof summarize>) => [label, s.count, ms(s.p50), ms(s.p99), ms(s.max)];
  const expected = ready.length * CHANGES.length;
  return {
    ...base,
    tables: [
      {
        columns: ['interval', 'deliveries', 'p50 ms', 'p99 ms', 'max ms'],
        rows: [
          row('mutation answer → subscriber message (all changes)', all),
          ...CHANGES.map((c) => row(`  ${c.mutation} → ${c.status}`, summarize(perStatus.get(c.status) ?? []))),
          row('subscribe → first (replayed) message', sub),
        ],
      },
    ],
    notes: [
      `${ready.length} of ${opts.subscribers} subscribers live${notReady ? ` (${notReady} got no replay within 180 s${firstErrors.length ? `; errors: ${firstErrors.join('; ')}` : ''})` : ''}`,
      `${latencies.length} of ${expected} deliveries received, ${missing} missing (not received 20 s after the step's last mutation answer, when the next step starts; the run ends 20 s after the last step)`,
      ...(early ? [`${early} messages arrived before the mutation's answer (counted as 0 ms)`] : []),
      ...(mutationErrors.length ? [`${mutationErrors.length} mutations failed: ${[...new Set(mutationErrors)].slice(0, 3).join('; ')}`] : []),
      'The status changes are asynchronous (prepareOrder → StoreOrderPrepared → reservations worker → customer view → push), so the figures include the event pipeline, not only the fan-out.',
    ],
    data: { deliveries: all, perStatus: Object.fromEntries([...perStatus].map(([k, v]) => [k, summarize(v)])), subscribe: sub, missing, notReady, mutationErrors },
    ok: missing === 0 && notReady === 0 && mutationErrors.length === 0,
  };
}
