import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createEvent, eventTypes, InvalidEventError, isEvent, parseEvent, type DomainEvent } from './catalog.js';

const rid = randomUUID();
const confirmedPayload = {
  reservationId: rid,
  customerId: 'c1',
  itemId: 'i1',
  itemName: 'Camera',
  storeId: 's1',
  quantity: 2,
  startDate: '2027-03-01',
  endDate: '2027-03-04',
  totalPrice: 6000,
};

describe('event catalog', () => {
  it('creates a valid event with id, time and correlation id', () => {
    const event = createEvent('ReservationConfirmed', confirmedPayload, { requestId: 'req-1' });
    expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
    expect(event.correlationId).toBe(rid);
    expect(event.requestId).toBe('req-1');
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('takes a fixed event id and time when given (a re-publication carries the same id), and refuses a non-UUID id', () => {
    const eventId = randomUUID();
    const at = new Date('2027-01-02T03:04:05.000Z');
    const a = createEvent('StoreOrderCreated', { orderId: 'o1', reservationId: rid, storeId: 's1' }, { eventId, occurredAt: at });
    const b = createEvent('StoreOrderCreated', { orderId: 'o1', reservationId: rid, storeId: 's1' }, { eventId, occurredAt: at });
    expect(a).toEqual(b);
    expect(a.eventId).toBe(eventId);
    expect(a.occurredAt).toBe('2027-01-02T03:04:05.000Z');
    expect(() => createEvent('StoreOrderCreated', { orderId: 'o1', reservationId: rid, storeId: 's1' }, { eventId: 'not-a-uuid' })).toThrow(InvalidEventError);
  });

  it('leaves requestId out when not given (no null stored)', () => {
    const event = createEvent('RentalStarted', { rentalId: 'r1', reservationId: rid });
    expect('requestId' in event).toBe(false);
  });

  it('accepts every event type with its payload', () => {
    const payloads: Record<string, unknown> = {
      ReservationConfirmed: confirmedPayload,
      ReservationRejected: { reservationId: rid, customerId: 'c', itemId: 'i', reason: 'no stock' },
      ReservationPaymentFailed: { reservationId: rid, customerId: 'c', reason: 'declined' },
      ReservationCancelled: { reservationId: rid, customerId: 'c', reason: 'changed mind' },
      StoreOrderCreated: { orderId: 'o', reservationId: rid, storeId: 's' },
      StoreOrderPrepared: { orderId: 'o', reservationId: rid, storeId: 's' },
      StoreOrderCancelled: { orderId: 'o', reservationId: rid },
      RentalStarted: { rentalId: 'r', reservationId: rid },
      RentalReturned: { rentalId: 'r', reservationId: rid, itemId: 'i', quantity: 1 },
    };
    expect(Object.keys(payloads).sort()).toEqual([...eventTypes].sort());
    for (const type of eventTypes) {
      const event = parseEvent({ eventId: randomUUID(), type, occurredAt: new Date().toISOString(), correlationId: rid, payload: payloads[type] });
      expect(event.type).toBe(type);
    }
  });

  it('narrows with isEvent', () => {
    const event: DomainEvent = createEvent('RentalReturned', { rentalId: 'r', reservationId: rid, itemId: 'i', quantity: 3 });
    if (isEvent(event, 'RentalReturned')) expect(event.payload.quantity).toBe(3);
    else expect.fail('should narrow');
  });

  const good = () => JSON.parse(JSON.stringify(createEvent('ReservationConfirmed', confirmedPayload)));

  it('rejects a missing payload field, naming the path', () => {
    const bad = good();
    delete bad.payload.itemName;
    expect(() => parseEvent(bad)).toThrow(InvalidEventError);
    expect(() => parseEvent(bad)).toThrow(/payload\.itemName: Required/);
  });

  it('rejects a wrong type, naming the path', () => {
    const bad = good();
    bad.payload.quantity = '2';
    expect(() => parseEvent(bad)).toThrow(/payload\.quantity: Expected number, received string/);
    const bad2 = good();
    bad2.payload.startDate = '01/03/2027';
    expect(() => parseEvent(bad2)).toThrow(/payload\.startDate/);
  });

  it('rejects envelope problems: unknown type, bad eventId, bad time, missing correlation', () => {
    expect(() => parseEvent({ ...good(), type: 'ReservationExploded' })).toThrow(/type: Invalid discriminator value/);
    expect(() => parseEvent({ ...good(), eventId: 'not-a-uuid' })).toThrow(/eventId: Invalid uuid/);
    expect(() => parseEvent({ ...good(), occurredAt: 'yesterday' })).toThrow(/occurredAt/);
    const noCorrelation = good();
    delete noCorrelation.correlationId;
    expect(() => parseEvent(noCorrelation)).toThrow(/correlationId: Required/);
    expect(() => parseEvent(null)).toThrow(InvalidEventError);
  });

  it('requires correlationId to be the reservation id', () => {
    expect(() => parseEvent({ ...good(), correlationId: 'other' })).toThrow(/correlationId: must equal payload.reservationId/);
  });

  it('createEvent refuses an invalid payload', () => {
    // @ts-expect-error quantity must be a number
    expect(() => createEvent('RentalReturned', { rentalId: 'r', reservationId: rid, itemId: 'i', quantity: 'x' })).toThrow(
      /payload\.quantity/,
    );
  });
  it('accepts the optional reservation details on the reservation events, and events without them', () => {
    const details = { itemId: 'i1', itemName: 'Camera', storeId: 's1', quantity: 1, startDate: '2027-03-01', endDate: '2027-03-02', totalPrice: null, createdAt: new Date().toISOString() };
    const withDetails = createEvent('ReservationCancelled', { ...details, reservationId: rid, customerId: 'c1', reason: 'r' });
    expect(withDetails.payload).toMatchObject(details);
    expect(createEvent('ReservationPaymentFailed', { reservationId: rid, customerId: 'c1', reason: 'r' }).payload).toEqual({ reservationId: rid, customerId: 'c1', reason: 'r' });
    expect(() => createEvent('ReservationRejected', { ...details, quantity: 0, reservationId: rid, customerId: 'c1', itemId: 'i1', reason: 'r' })).toThrow(InvalidEventError);
  });
});
