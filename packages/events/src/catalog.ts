/**
 * The event catalog: every domain event the subgraphs exchange, as zod schemas.
 *
 * This file is the executable form of the "Events" table in
 * docs/ARCHITECTURE.md. Producers build events with {@link createEvent}, which
 * validates before anything is written to an outbox; consumers read them with
 * {@link parseEvent}, so a malformed message is caught at the edge instead of
 * deep inside a handler.
 *
 * Envelope rules:
 * - `eventId` is a UUID. It doubles as the BullMQ job id (duplicate publishes
 *   are dropped) and as a map key on documents (`outbox.<eventId>`,
 *   `processedEvents.<eventId>`), so it must never contain `.` or `$`; a UUID
 *   never does.
 * - `correlationId` is the reservation id. Every payload carries
 *   `reservationId`, and the two must be equal: one saga, one id to grep logs by.
 * - `occurredAt` is an ISO 8601 date-time (with `Z` or an offset).
 * - Unknown fields are stripped, not rejected, so a producer that adds a field
 *   does not break a consumer that has not been redeployed yet. Removing or
 *   renaming a field is a breaking change: add a new event type instead.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** An entity id (UUID or ObjectId hex in practice); never empty. */
const id = z.string().min(1);
/** An ISO calendar date, "2027-03-01", as the public `Date` scalar. */
const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date YYYY-MM-DD');

/**
 * An ISO 8601 date-time with a `Z` or `±hh:mm` offset, as `Date#toISOString`
 * writes it. The same rule as zod's `.datetime({ offset: true })`, which
 * builds its regular expression anew on every call: a profile showed it
 * among the top costs of every process that handles events.
 */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const isoDateTime = z.string().regex(ISO_DATE_TIME, 'Invalid datetime');
const positiveInt = z.number().int().positive();
const reason = z.string();

/**
 * Payload schema of each event type, keyed by type. Adding an event means a
 * line here and a line in the routing table (`routing.ts`); the compiler then
 * points at every place that has to know about it.
 */
/**
 * What the reservation's own events may add so a consumer (the customer view)
 * can show a reservation from its first event, whichever arrives first:
 * optional, so older producers and queued events stay valid.
 */
const reservationDetails = {
  itemId: id.optional(),
  itemName: z.string().optional(),
  storeId: id.optional(),
  quantity: positiveInt.optional(),
  startDate: calendarDate.optional(),
  endDate: calendarDate.optional(),
  /** null while the price was not known (e.g. rejected before the stock was taken). */
  totalPrice: z.number().int().nonnegative().nullable().optional(),
  /** When the reservation was created (its PENDING moment), ISO 8601. */
  createdAt: isoDateTime.optional(),
};

export const payloadSchemas = {
  ReservationConfirmed: z.object({
    createdAt: reservationDetails.createdAt,
    reservationId: id,
    customerId: id,
    itemId: id,
    itemName: z.string(),
    storeId: id,
    quantity: positiveInt,
    startDate: calendarDate,
    endDate: calendarDate,
    totalPrice: z.number().int().nonnegative(),
  }),
  ReservationRejected: z.object({ ...reservationDetails, reservationId: id, customerId: id, itemId: id, reason }),
  ReservationPaymentFailed: z.object({ ...reservationDetails, reservationId: id, customerId: id, reason }),
  ReservationCancelled: z.object({ ...reservationDetails, reservationId: id, customerId: id, reason }),
  StoreOrderCreated: z.object({ orderId: id, reservationId: id, storeId: id }),
  StoreOrderPrepared: z.object({ orderId: id, reservationId: id, storeId: id }),
  StoreOrderCancelled: z.object({ orderId: id, reservationId: id }),
  RentalStarted: z.object({ rentalId: id, reservationId: id }),
  RentalReturned: z.object({ rentalId: id, reservationId: id, itemId: id, quantity: positiveInt }),
} as const;

type PayloadSchemas = typeof payloadSchemas;

/** The name of a domain event, e.g. `'ReservationConfirmed'`. */
export type EventType = keyof PayloadSchemas;

/** Every event type, in catalog order (tests and the routing table iterate it). */
export const eventTypes = Object.keys(payloadSchemas) as EventType[];

/** The payload of one event type. */
export type EventPayload<T extends EventType> = z.infer<PayloadSchemas[T]>;

/** Fields every event carries, whatever its type. */
export const envelopeSchema = z.object({
  eventId: z.string().uuid(),
  type: z.string(),
  occurredAt: isoDateTime,
  correlationId: id,
  requestId: z.string().min(1).optional(),
  payload: z.unknown(),
});

/** The envelope with a type-specific payload. */
export type EventOf<T extends EventType> = Omit<z.infer<typeof envelopeSchema>, 'type' | 'payload'> & {
  type: T;
  payload: EventPayload<T>;
};

/** Any domain event; narrow it with `switch (event.type)`. */
export type DomainEvent = { [T in EventType]: EventOf<T> }[EventType];

function eventSchemaOf<T extends EventType>(type: T) {
  return envelopeSchema.extend({ type: z.literal(type), payload: payloadSchemas[type] });
}

const [firstType, ...otherTypes] = eventTypes.map((t) => eventSchemaOf(t));

/**
 * Schema of a whole event: the envelope, discriminated on `type`, plus the
 * cross-field rule `correlationId === payload.reservationId`.
 */
export const domainEventSchema = z
  .discriminatedUnion('type', [firstType!, ...otherTypes])
  .superRefine((event, ctx) => {
    const payload = event.payload as { reservationId: string };
    if (event.correlationId !== payload.reservationId) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['correlationId'],
        message: `must equal payload.reservationId (${payload.reservationId})`,
      });
    }
  }) as unknown as z.ZodType<DomainEvent>;

/**
 * Thrown when a value is not a valid domain event. The message lists every
 * problem as `<path>: <rule>`, e.g. `payload.quantity: Expected number, received string`.
 */
export class InvalidEventError extends Error {
  constructor(readonly issues: z.ZodIssue[]) {
    super(`Invalid event: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidEventError';
  }
}

/** Validates an unknown value (a job's data, an outbox entry) as a domain event; throws {@link InvalidEventError}. */
export function parseEvent(value: unknown): DomainEvent {
  const result = domainEventSchema.safeParse(value);
  if (!result.success) throw new InvalidEventError(result.error.issues);
  return result.data;
}

/** Context of the change that caused an event. */
export interface EventOrigin {
  /** The reservation id; defaults to `payload.reservationId`, which every payload has. */
  correlationId?: string;
  /** The `x-request-id` of the request that caused the change, for log correlation. */
  requestId?: string;
  /**
   * A fixed event id instead of a fresh one, for an event published without
   * an outbox whose every re-publication must carry the same id (e.g. derived
   * with `nameBasedId` from the document it announces), so BullMQ drops the
   * repeats and consumers recognise them.
   */
  eventId?: string;
  /** When the change happened, if not now (a re-publication of an earlier change). */
  occurredAt?: Date;
}

/**
 * Builds a validated event, with a fresh `eventId` and `occurredAt = now`
 * unless `origin` fixes them. Call it before the state change and write the
 * result with `withOutbox`, so the event and the change land in one update.
 */
export function createEvent<T extends EventType>(type: T, payload: EventPayload<T>, origin: EventOrigin = {}): EventOf<T> {
  const event: Record<string, unknown> = {
    eventId: origin.eventId ?? randomUUID(),
    type,
    occurredAt: (origin.occurredAt ?? new Date()).toISOString(),
    correlationId: origin.correlationId ?? (payload as { reservationId: string }).reservationId,
    payload,
  };
  // No `requestId: undefined` key: the driver would store it as null.
  if (origin.requestId !== undefined) event.requestId = origin.requestId;
  return parseEvent(event) as EventOf<T>;
}

/** Type guard for one event type, for code that holds a {@link DomainEvent}. */
export function isEvent<T extends EventType>(event: DomainEvent, type: T): event is Extract<DomainEvent, { type: T }> {
  return event.type === type;
}
