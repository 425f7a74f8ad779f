/** LiveReservations: where each (re-)subscription starts, and what is dropped. */
import { describe, expect, it, vi } from 'vitest';
import type { Client, Sink } from 'graphql-ws';
import { LiveReservations, RESUME_DELAY_MS } from './live.ts';
import type { Reservation, ReservationUpdate } from './operations.ts';

interface Sent {
  variables: Record<string, unknown>;
  sink: Sink<{ data?: { reservationStatus: ReservationUpdate } }>;
  disposed: boolean;
}

/** A graphql-ws client that records subscriptions; `resend()` reads the variables as a reconnect does. */
function fakeClient() {
  const sent: Sent[] = [];
  const client = {
    subscribe(payload: { variables: Record<string, unknown> }, sink: Sent['sink']) {
      const s: Sent = { variables: payload.variables, sink, disposed: false };
      sent.push(s);
      return () => {
        s.disposed = true;
      };
    },
  } as unknown as Client;
  const resend = (s: Sent) => JSON.parse(JSON.stringify(s.variables)) as Record<string, unknown>;
  return { client, sent, resend };
}

const reservation = (id: string, status: Reservation['status'], version: number) =>
  ({ __typename: 'Reservation', id, status, version, history: [] }) as unknown as Reservation;
const update = (id: string, status: Reservation['status'], version: number, sequence: number): ReservationUpdate => ({
  version,
  sequence,
  reservation: reservation(id, status, version),
});

describe('LiveReservations', () => {
  it('a listed reservation is followed from its listed version, then from the last one received', () => {
    const { client, sent, resend } = fakeClient();
    const got: ReservationUpdate[] = [];
    const live = new LiveReservations(client, { onUpdate: (u) => got.push(u) });
    live.seen('r1', 3);
    live.track('r1');
    const r1 = sent[0]!;
    expect(resend(r1)).toEqual({ reservationId: 'r1', sinceVersion: 3 });

    // The server replays version 4 (made between the list and the subscription), then 5.
    r1.sink.next({ data: { reservationStatus: update('r1', 'READY_FOR_PICKUP', 4, 10) } });
    r1.sink.next({ data: { reservationStatus: update('r1', 'RENTED', 5, 12) } });
    // A repeat (the same change on the all-reservations stream) is dropped.
    r1.sink.next({ data: { reservationStatus: update('r1', 'READY_FOR_PICKUP', 4, 10) } });
    expect(got.map((u) => u.version)).toEqual([4, 5]);
    // A reconnect re-sends the subscription from the last version received.
    expect(resend(r1)).toEqual({ reservationId: 'r1', sinceVersion: 5 });
    // An older listed version never moves it back.
    live.seen('r1', 2);
    expect(resend(r1)).toEqual({ reservationId: 'r1', sinceVersion: 5 });
  });

  it('a reservation the view has not caught up with (version 0) is replayed from the start', () => {
    const { client, sent, resend } = fakeClient();
    const live = new LiveReservations(client, { onUpdate: () => undefined });
    live.seen('r2', 0);
    live.track('r2');
    expect(resend(sent[0]!)).toEqual({ reservationId: 'r2', sinceVersion: 0 });
  });

  it('the all-reservations stream resumes from the last sequence it received (not from a per-reservation one)', () => {
    const { client, sent, resend } = fakeClient();
    const live = new LiveReservations(client, { onUpdate: () => undefined });
    live.start();
    const all = sent[0]!;
    expect(resend(all)).toEqual({});
    live.track('r1');
    sent[1]!.sink.next({ data: { reservationStatus: update('r1', 'CONFIRMED', 1, 40) } });
    expect(resend(all)).toEqual({});
    all.sink.next({ data: { reservationStatus: update('r3', 'CONFIRMED', 1, 7) } });
    all.sink.next({ data: { reservationStatus: update('r3', 'CANCELLED', 2, 9) } });
    expect(resend(all)).toEqual({ sinceSequence: 9 });
    expect(live.sequence()).toBe(9);
  });

  it('stops following a reservation once it reaches a final status', () => {
    const { client, sent } = fakeClient();
    const live = new LiveReservations(client, { onUpdate: () => undefined });
    live.seen('r1', 1);
    live.track('r1');
    sent[0]!.sink.next({ data: { reservationStatus: update('r1', 'RETURNED', 2, 3) } });
    expect(sent[0]!.disposed).toBe(true);
    expect(live.trackedIds()).toEqual([]);
  });

  it('a resumable error (extensions.resumeFrom) subscribes again after RESUME_DELAY_MS from the last version seen, and tells the page nothing', () => {
    vi.useFakeTimers();
    try {
      const { client, sent, resend } = fakeClient();
      const errors: string[] = [];
      const live = new LiveReservations(client, { onUpdate: () => {}, onError: (m) => errors.push(m) });
      live.seen('r1', 2);
      live.track('r1');
      sent[0]!.sink.next({ data: { reservationStatus: update('r1', 'READY_FOR_PICKUP', 3, 7) } });
      sent[0]!.sink.error([{ message: 'the subscriber fell behind', extensions: { code: 'TRY_LATER', resumeFrom: { reservationId: 'r1', sinceVersion: 3 } } }]);
      expect(sent).toHaveLength(1);
      vi.advanceTimersByTime(RESUME_DELAY_MS);
      expect(sent).toHaveLength(2);
      expect(resend(sent[1]!)).toEqual({ reservationId: 'r1', sinceVersion: 3 });
      expect(live.trackedIds()).toEqual(['r1']);
      expect(errors).toEqual([]);
      // Any other error ends it and is shown.
      sent[1]!.sink.error([{ message: 'forbidden', extensions: { code: 'FORBIDDEN' } }]);
      vi.advanceTimersByTime(RESUME_DELAY_MS);
      expect(sent).toHaveLength(2);
      expect(errors).toEqual(['forbidden']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop() before the resume delay cancels the resubscription', () => {
    vi.useFakeTimers();
    try {
      const { client, sent } = fakeClient();
      const live = new LiveReservations(client, { onUpdate: () => {} });
      live.start();
      sent[0]!.sink.error([{ message: 'the change log could not be read', extensions: { code: 'SERVICE_UNAVAILABLE', resumeFrom: { sinceSequence: 0 } } }]);
      live.stop();
      vi.advanceTimersByTime(RESUME_DELAY_MS * 2);
      expect(sent).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
