/**
 * Live reservation updates over graphql-ws, with nothing lost across reconnects.
 *
 * - One subscription without an id: every change of any of my reservations
 *   (that is how a reservation made in another tab shows up).
 * - One per reservation still in progress, `reservationStatus(reservationId,
 *   sinceVersion)`. graphql-ws re-sends a subscription after every reconnect;
 *   its variables are read when the message is sent, so the re-subscription
 *   asks for everything after the last version this page has seen, and the
 *   server replays what was missed while the socket was down.
 * - Every update carries its reservation's `version`; one not newer than what
 *   was seen (the same change on both subscriptions, or a replay) is dropped.
 */
import type { Client } from 'graphql-ws';
import { print } from 'graphql';
import { RESERVATION_STATUS, TERMINAL, type ReservationUpdate } from './operations.ts';

const QUERY = print(RESERVATION_STATUS);
/** Per-reservation subscriptions at most: the router allows 20 per connection by default (MAX_SUBSCRIPTIONS_PER_CONNECTION), one is the all-mine stream. */
export const MAX_TRACKED = 15;

export interface LiveOptions {
  onUpdate(update: ReservationUpdate): void;
  /** A subscription was refused (e.g. the server does not offer it, or the reservation is not mine). */
  onError?(message: string, reservationId?: string): void;
}

export class LiveReservations {
  private readonly versions = new Map<string, number>();
  private readonly tracked = new Map<string, () => void>();
  private disposeAll: (() => void) | undefined;

  constructor(
    private readonly ws: Client,
    private readonly opts: LiveOptions,
  ) {}

  /** The last version seen of a reservation. */
  version(id: string): number | undefined {
    return this.versions.get(id);
  }

  start(): void {
    this.disposeAll ??= this.subscribe(undefined);
  }

  /** Follows one reservation with replay-on-reconnect until it reaches a final status. */
  track(id: string): void {
    if (this.tracked.has(id) || this.tracked.size >= MAX_TRACKED) return;
    this.tracked.set(id, this.subscribe(id));
  }

  untrack(id: string): void {
    this.tracked.get(id)?.();
    this.tracked.delete(id);
  }

  trackedIds(): string[] {
    return [...this.tracked.keys()];
  }

  /** Accepts an update if it is newer than what was seen; returns whether it was. */
  accept(update: ReservationUpdate): boolean {
    const id = update.reservation.id;
    const seen = this.versions.get(id);
    if (seen !== undefined && update.version <= seen) return false;
    this.versions.set(id, update.version);
    if (TERMINAL.has(update.reservation.status)) this.untrack(id);
    return true;
  }

  stop(): void {
    this.disposeAll?.();
    this.disposeAll = undefined;
    for (const dispose of this.tracked.values()) dispose();
    this.tracked.clear();
  }

  private subscribe(reservationId: string | undefined): () => void {
    const versions = this.versions;
    const variables: Record<string, unknown> = {};
    if (reservationId) {
      variables.reservationId = reservationId;
      // A getter: read each time graphql-ws (re)sends the subscribe message.
      Object.defineProperty(variables, 'sinceVersion', { enumerable: true, get: () => versions.get(reservationId) });
    }
    return this.ws.subscribe<{ reservationStatus: ReservationUpdate }>(
      { query: QUERY, operationName: 'ReservationStatus', variables },
      {
        next: (result) => {
          if (result.errors?.length) {
            this.opts.onError?.(result.errors[0]!.message, reservationId);
            return;
          }
          const update = result.data?.reservationStatus;
          if (update && this.accept(update)) this.opts.onUpdate(update);
        },
        error: (err) => {
          const message = Array.isArray(err)
            ? String((err[0] as { message?: string } | undefined)?.message ?? 'subscription refused')
            : err instanceof Error
              ? err.message
              : 'the live connection closed';
          this.opts.onError?.(message, reservationId);
          if (reservationId) this.tracked.delete(reservationId);
          else this.disposeAll = undefined;
        },
        complete: () => {
          if (reservationId) this.tracked.delete(reservationId);
        },
      },
    );
  }
}
