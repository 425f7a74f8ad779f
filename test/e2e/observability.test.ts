/**
 * Observability end to end: a request id sent to the router is in the JSON
 * log lines of the subgraph that handled it and of the worker that handled
 * the event it caused (with the reservation id as correlation id); and every
 * promised metric family is on `/metrics` of the router, a subgraph and a
 * worker (its WORKER_HEALTH_PORT). reservations and the stores worker run as
 * child processes so their stdout can be read.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/ports.js';
import { day, eventually, startStack, type Stack } from '../support/stack.js';

let stack: Stack;
let workerHealthPort: number;

beforeAll(async () => {
  workerHealthPort = await freePort();
  stack = await startStack({
    tag: 'obs',
    processes: ['reservations', 'stores-worker'],
    env: {
      reservations: { LOG_LEVEL: 'info' },
      'stores-worker': { LOG_LEVEL: 'info', WORKER_HEALTH_PORT: String(workerHealthPort) },
    },
  });
}, 120_000);
afterAll(() => stack?.stop());

/** The JSON log lines of a child process. */
function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  return res.text();
}

describe('request id and correlation id across processes', () => {
  let storeId: string;
  let itemId: string;
  let reservationId: string;
  const requestId = `obs-${randomBytes(6).toString('hex')}`;

  it('a request id sent to the router is logged by the subgraph and by the worker handling the event', async () => {
    const admin = await stack.tokens.admin();
    const store = await stack.gql<{ createStore: { id: string } }>(admin, 'mutation { createStore(input: { name: "Obs", city: "Nantes" }) { id } }');
    storeId = store.data!.createStore.id;
    const staff = await stack.tokens.staff(storeId);
    const item = await stack.gql<{ registerItem: { id: string } }>(
      staff,
      'mutation ($input: RegisterItemInput!) { registerItem(input: $input) { id } }',
      { input: { storeId, name: 'Drone', category: 'drone', dailyRate: 500, stock: 5 } },
    );
    itemId = item.data!.registerItem.id;

    const customer = await stack.tokens.customer('olga');
    const res = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customer}`, 'x-request-id': requestId },
      body: JSON.stringify({
        query: 'mutation ($input: CreateReservationInput!) { createReservation(input: $input) { id status } }',
        variables: { input: { itemId, quantity: 1, startDate: day(3), endDate: day(5), paymentToken: 'tok_approve' } },
      }),
    });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const body = (await res.json()) as { data: { createReservation: { id: string; status: string } } };
    expect(body.data.createReservation.status).toBe('CONFIRMED');
    reservationId = body.data.createReservation.id;

    // The subgraph: its access log line and the saga's line, both with the request id.
    const reservationsLines = () => jsonLines(stack.subgraphs.reservations.output());
    await eventually(async () => reservationsLines().some((l) => l.requestId === requestId && l.msg === 'reservation confirmed'), 10_000, 'saga log line');
    const confirmed = reservationsLines().find((l) => l.requestId === requestId && l.msg === 'reservation confirmed')!;
    expect(confirmed).toMatchObject({ service: 'reservations', reservationId, level: 'info' });
    await eventually(
      async () => reservationsLines().some((l) => l.requestId === requestId && l.msg === 'graphql operation' && l.code === 'OK'),
      10_000,
      'access log line',
    );

    // The worker: the ReservationConfirmed job carries the request id, and the reservation id as correlation id.
    const handled = await eventually(
      async () =>
        jsonLines(stack.workers['stores-worker'].output()).find(
          (l) => l.msg === 'event handled' && l.type === 'ReservationConfirmed' && l.correlationId === reservationId,
        ),
      45_000,
      'worker log line',
    );
    expect(handled).toMatchObject({ service: 'stores-worker', requestId, correlationId: reservationId, queue: 'stores-events' });
  }, 90_000);

  it('/metrics of the router, a subgraph and a worker carry every promised family', async () => {
    // An error by code at the router and in a subgraph.
    const customer = await stack.tokens.customer('olga');
    const bad = await stack.gql(customer, 'mutation ($input: CreateReservationInput!) { createReservation(input: $input) { id } }', {
      input: { itemId, quantity: 0, startDate: day(3), endDate: day(5), paymentToken: 'tok_approve' },
    });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const routerBase = stack.url.replace(/\/graphql$/, '');
    const router = await scrape(`${routerBase}/metrics`);
    expect(router).toMatch(/graphql_requests_total\{service="router",operation="[^"]*",code="OK"\} \d+/);
    expect(router).toMatch(/graphql_request_duration_seconds_bucket\{le="[^"]+",service="router"/);
    expect(router).toMatch(/graphql_errors_total\{service="router",code="BAD_USER_INPUT"\} \d+/);
    expect(router).toMatch(/graphql_subscriptions_open\{service="router"\} \d+|# TYPE graphql_subscriptions_open gauge/);
    expect(router).toMatch(/router_subgraph_fetch_duration_seconds_bucket\{le="[^"]+",subgraph="reservations",outcome="ok"\}/);

    const reservations = await scrape(`http://127.0.0.1:${stack.subgraphs.reservations.port}/metrics`);
    expect(reservations).toMatch(/graphql_requests_total\{service="reservations",operation="[^"]*",code="OK"\} \d+/);
    expect(reservations).toMatch(/graphql_request_duration_seconds_bucket\{le="[^"]+",service="reservations"/);
    expect(reservations).toMatch(/graphql_errors_total\{service="reservations",code="BAD_USER_INPUT"\} \d+/);
    expect(reservations).toMatch(/dependency_circuit_state\{service="reservations",dependency="items"\} 0/);
    expect(reservations).toMatch(/dependency_circuit_state\{service="reservations",dependency="rentals"\} 0/);
    // The producer sees every consumer queue's depth.
    for (const queue of ['reservations-events', 'stores-events', 'rentals-events']) {
      expect(reservations).toMatch(new RegExp(`event_queue_jobs\\{queue="${queue}",state="waiting"\\} \\d+`));
    }

    const worker = `http://127.0.0.1:${workerHealthPort}`;
    // A busy machine may still be booting the worker process (the stack gives workers 1.5 s).
    await eventually(async () => (await fetch(`${worker}/readyz`)).ok, 30_000, 'worker health port');
    expect((await fetch(`${worker}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker}/readyz`)).status).toBe(200);
    const workerMetrics = await scrape(`${worker}/metrics`);
    expect(workerMetrics).toMatch(/event_queue_jobs\{queue="stores-events",state="(waiting|active|delayed|failed)"\} \d+/);
    expect(workerMetrics).toMatch(/event_lag_seconds_bucket\{le="[^"]+",queue="stores-events",type="ReservationConfirmed"\} \d+/);
    expect(workerMetrics).toMatch(/event_lag_seconds_count\{queue="stores-events",type="ReservationConfirmed"\} [1-9]/);
    expect(workerMetrics).toMatch(/events_handled_total\{queue="stores-events",type="ReservationConfirmed",outcome="ok"\} [1-9]/);
    expect(workerMetrics).toMatch(/process_cpu_seconds_total/);
  }, 60_000);
});
