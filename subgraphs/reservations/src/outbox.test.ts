/**
 * A process that dies between the state change and the publish: the event is
 * in the document's outbox, and the next process's relay publishes it at
 * start-up. Stood for by an API that never publishes right after its writes
 * and whose periodic sweep never comes, stopped, then started normally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestSystem, type TestSystem } from './testing.js';

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem({ api: { skipImmediatePublish: true }, env: { OUTBOX_SWEEP_MS: '600000' } });
});
afterAll(async () => {
  await t?.stop();
});

async function confirmedJobs(reservationId: string) {
  const jobs = await t.bus.queue('stores').getJobs(['waiting', 'active', 'completed', 'delayed']);
  return jobs.filter((j) => j.name === 'ReservationConfirmed' && (j.data as { correlationId: string }).correlationId === reservationId);
}

describe('outbox', () => {
  it('delivers an event written before a crash, once the service is back', async () => {
    const itemId = await t.registerItem({ stock: 2 });
    const res = await t.create(itemId);
    const id = res.data!.createReservation.id;
    expect(res.data!.createReservation.status).toBe('CONFIRMED');

    // Written, not published.
    const doc = await t.doc(id);
    expect(doc?.outboxCount).toBe(1);
    expect(Object.values(doc?.outbox ?? {})).toEqual([expect.objectContaining({ type: 'ReservationConfirmed', correlationId: id })]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await confirmedJobs(id)).toHaveLength(0);

    // "Crash" and restart: the relay publishes what the outbox holds at start-up.
    await t.restartApi({}, { OUTBOX_SWEEP_MS: '600000' });
    const jobs = await eventually(async () => {
      const found = await confirmedJobs(id);
      return found.length > 0 ? found : null;
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data).toMatchObject({ type: 'ReservationConfirmed', payload: { reservationId: id, itemId } });
    await eventually(async () => (await t.doc(id))?.outboxCount === 0);
    expect((await t.doc(id))?.outbox).toEqual({});
  });
});
