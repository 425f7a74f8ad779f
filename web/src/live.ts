/**
 * Live reservation updates over graphql-ws, with nothing lost between the
 * list and the subscriptions, nor across reconnects.
 *
 * - One per reservation still in progress, `reservationStatus(reservationId,
 *   sinceVersion)`. `sinceVersion` is the newest version this page knows:
 *   first the `version` that `myReservations` listed (`seen()` is called
 *   before `track()`), so a change made between loading the list and
 *   subscribing is replayed by the server; later the last update received.
 *   graphql-ws re-sends a subscription after every reconnect and its
 *   variables are read when the message is sent, so the re-subscription asks
 *   for everything after the last version seen.
 * - One subscription without an id: every change of any of my reservations
 *   (that is how a reservation made in another tab shows up). It resumes with
 *   `sinceSequence` = the last feed `sequence` received; before any update
 *   there is none, and the page refetches the list once the socket is
 *   connected (MyReservations) to pick up what was made meanwhile.
 * - Every update carries its reservation's `version`; one not newer than what
 *   was seen (the same change on both subscriptions, or a replay) is dropped.
 * - A subscription the server ends with a resumable error (its
 *   `extensions.resumeFrom`: the change log could not be read, or this page
 *   fell behind) is subscribed again after {@link RESUME_DELAY_MS}, from the
 *   last version or sequence seen; the page is not told (nothing was lost).
 */
import type { Client } from 'graphql-ws';
import { print } from 'graphql';
import { RESERVATION_STATUS, TERMINAL, type ReservationUpdate } from './operations.ts';

const QUERY = print(RESERVATION_STATUS);
/** Per-reservation subscriptions at most: the router allows 20 per connection by default (MAX_SUBSCRIPTIONS_PER_CONNECTION), one is the all-mine stream. */
export const MAX_TRACKED = 15;
/** Wait before subscribing again after a resumable error (the server asked to try again later). */
export const RESUME_DELAY_MS = 1000;

/** An error the server says can be resumed from (`extensions.resumeFrom`). */
function isResumable(err: unknown): boolean {
  const first = Array.isArray(err) ? (err[0] as { extensions?: { resumeFrom?: unknown } } | undefined) : undefined;
  return first?.extensions?.resumeFrom !== undefined;
}

export interface LiveOptions {
  onUpdate(update: ReservationUpdate): void;
  /** A subscription was refused (e.g. the server does not offer it, or the reservation is not mine). */
  onError?(message: string, reservationId?: string): void;
}

export class LiveReservations {
  private readonly versions = new Map<string, number>();
  /** The last feed position received on the all-reservations subscription (resumes it). */
  private lastSequence: number | undefined;
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

  /** The last feed sequence seen. */
  sequence(): number | undefined {
    return this.lastSequence;
  }

  /**
   * Records a version this page already shows (from `myReservations`): the
   * subscription of that reservation starts after it. Never moves back.
   */
  seen(id: string, version: number): void {
    const known = this.versions.get(id);
    if (Number.isInteger(version) && version >= 0 && (known === undefined || version > known)) this.versions.set(id, version);
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

  /** Subscribes again after RESUME_DELAY_MS; stop()/untrack() before then cancel it. */
  private resumeLater(reservationId: string | undefined): void {
    const timer = setTimeout(() => {
      if (reservationId !== undefined) {
        if (this.tracked.get(reservationId) === cancel) this.tracked.set(reservationId, this.subscribe(reservationId));
      } else if (this.disposeAll === cancel) {
        this.disposeAll = this.subscribe(undefined);
      }
    }, RESUME_DELAY_MS);
    const cancel = () => clearTimeout(timer);
    if (reservationId !== undefined) this.tracked.set(reservationId, cancel);
    else this.disposeAll = cancel;
  }

  private subscribe(reservationId: string | undefined): () => void {
    const versions = this.versions;
    const variables: Record<string, unknown> = {};
    // Getters: read each time graphql-ws (re)sends the subscribe message.
    if (reservationId) {
      variables.reservationId = reservationId;
      Object.defineProperty(variables, 'sinceVersion', { enumerable: true, get: () => versions.get(reservationId) });
    } else {
      Object.defineProperty(variables, 'sinceSequence', { enumerable: true, get: () => this.lastSequence });
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
          if (!update) return;
          // Only the all-reservations stream moves its resume point: a per-reservation
          // stream's sequence says nothing about other reservations' changes.
          if (!reservationId && (this.lastSequence === undefined || update.sequence > this.lastSequence)) this.lastSequence = update.sequence;
          if (this.accept(update)) this.opts.onUpdate(update);
        },
        error: (err) => {
          if (isResumable(err)) {
            this.resumeLater(reservationId);
            return;
          }
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
