/**
 * "My reservations": the customer view (`myReservations`) kept live by
 * `reservationStatus` subscriptions (live.ts). Each listed reservation's
 * `version` is where its subscription starts (`sinceVersion`), so nothing
 * changed between the list and the subscription is lost. While the live
 * connection is down the list is polled every 5 s instead; after every
 * connect it is refetched once (a reservation made elsewhere before the
 * all-reservations subscription started) and the subscriptions replay what
 * was missed.
 */
import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, forwardRef } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import type { Api, SocketState } from '../apollo.ts';
import { useToasts } from '../components/Toasts.tsx';
import { apiError, describeError } from '../errors.ts';
import { LiveReservations } from '../live.ts';
import {
  CANCEL_RESERVATION,
  MY_RESERVATIONS,
  STATUS_LABEL,
  TERMINAL,
  type Reservation,
  type ReservationStatus,
  type ReservationUpdate,
} from '../operations.ts';
import { formatDate, formatMoney } from '../validation.ts';

const ALL_STATUSES: ReservationStatus[] = Object.keys(STATUS_LABEL) as ReservationStatus[];
const FALLBACK_POLL_MS = 5000;

export interface MyReservationsHandle {
  /** A reservation this page just created: shown at once, then followed live. */
  add(reservation: Reservation): void;
  refresh(): void;
}

/**
 * Newer of two snapshots of one reservation: the history only grows; on a tie
 * the higher view version (a mutation's answer comes from the write model and
 * may carry a version the view has already passed).
 */
function newer(a: Reservation, b: Reservation): Reservation {
  if (b.history.length !== a.history.length) return b.history.length > a.history.length ? b : a;
  return (b.version ?? 0) >= (a.version ?? 0) ? b : a;
}

/** After a connect, the all-reservations subscription has been sent; refetch once it has surely started. */
const REFETCH_AFTER_CONNECT_MS = 1000;

function useSocketState(api: Api): SocketState {
  const [state, setState] = useState<SocketState>(api.socketState());
  useEffect(() => api.onSocketState(setState), [api]);
  return state;
}

export const MyReservations = forwardRef<MyReservationsHandle, { api: Api }>(function MyReservations({ api }, ref) {
  const { notify } = useToasts();
  const client = useApolloClient();
  const socket = useSocketState(api);
  const [includeClosed, setIncludeClosed] = useState(false);
  const [liveError, setLiveError] = useState<string | null>(null);
  const [local, setLocal] = useState<Map<string, Reservation>>(() => new Map());
  const shownStatus = useRef(new Map<string, ReservationStatus>());

  const { data, previousData, loading, error, refetch } = useQuery(MY_RESERVATIONS, {
    variables: { first: 50, status: includeClosed ? ALL_STATUSES : null },
    pollInterval: socket === 'connected' && !liveError ? 0 : FALLBACK_POLL_MS,
  });

  const remember = useCallback((r: Reservation) => {
    setLocal((m) => {
      const prev = m.get(r.id);
      const next = new Map(m);
      next.set(r.id, prev ? newer(prev, r) : r);
      return next;
    });
  }, []);

  const live = useMemo(
    () =>
      new LiveReservations(api.ws, {
        onUpdate: (u: ReservationUpdate) => {
          remember(u.reservation);
          // Stock moves when reservations change: refresh the catalog now rather than at the next poll.
          void client.refetchQueries({ include: ['Catalog'] });
        },
        onError: (message, id) => {
          if (!id) setLiveError(message);
        },
      }),
    [api, client, remember],
  );
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  useEffect(() => {
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const off = api.onConnected(() => {
      const t = setTimeout(() => {
        timers.delete(t);
        void refetch();
      }, REFETCH_AFTER_CONNECT_MS);
      timers.add(t);
    });
    return () => {
      off();
      for (const t of timers) clearTimeout(t);
    };
  }, [api, refetch]);

  useImperativeHandle(ref, () => ({
    add: remember,
    refresh: () => void refetch(),
  }));

  const shown = data ?? previousData;
  const list = useMemo(() => {
    const byId = new Map<string, Reservation>();
    for (const e of shown?.myReservations.edges ?? []) byId.set(e.node.id, e.node);
    for (const [id, r] of local) {
      const q = byId.get(id);
      if (q) byId.set(id, newer(q, r));
      else if (includeClosed || r.status !== 'CANCELLED') byId.set(id, r);
    }
    return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }, [shown, local, includeClosed]);

  // Follow every reservation still in progress from the version shown (the
  // listed one), so the server replays anything newer; toast when a shown status changes.
  useEffect(() => {
    for (const r of list) {
      live.seen(r.id, r.version);
      if (!TERMINAL.has(r.status)) live.track(r.id);
      const before = shownStatus.current.get(r.id);
      if (before && before !== r.status) {
        notify(`${r.item.name}: ${STATUS_LABEL[before]} → ${STATUS_LABEL[r.status]}.`, r.status === 'READY_FOR_PICKUP' ? 'success' : 'info');
      }
      shownStatus.current.set(r.id, r.status);
    }
  }, [list, live, notify]);

  return (
    <section className="panel" aria-labelledby="mine-title">
      <div className="panel-head">
        <h2 id="mine-title">My reservations</h2>
        <label className="check">
          <input type="checkbox" checked={includeClosed} onChange={(e) => setIncludeClosed(e.target.checked)} /> Include cancelled
        </label>
      </div>
      {liveError ? (
        <p className="hint warn">Live updates are not available ({liveError}); the list refreshes every 5 seconds.</p>
      ) : socket === 'connecting' || socket === 'reconnecting' || socket === 'closed' ? (
        <p className="hint">Connecting live updates… the list refreshes every 5 seconds meanwhile.</p>
      ) : (
        <p className="hint">Updates appear here as they happen.</p>
      )}

      {error && !shown && (
        <div role="alert" className="form-error">
          {describeError(apiError(error), 'load your reservations')}{' '}
          <button type="button" className="link" onClick={() => void refetch()}>
            Retry
          </button>
        </div>
      )}
      {loading && !shown && list.length === 0 && <p className="loading" role="status">Loading your reservations…</p>}
      {shown && list.length === 0 && <p className="empty">You have no reservations yet. Choose an item in the catalog to reserve it.</p>}
      <ul className="cards" aria-label="Reservations">
        {list.map((r) => (
          <ReservationCard key={r.id} reservation={r} onChanged={remember} />
        ))}
      </ul>
    </section>
  );
});

function ReservationCard({ reservation: r, onChanged }: { reservation: Reservation; onChanged: (r: Reservation) => void }) {
  const { notify } = useToasts();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [cancel, { loading }] = useMutation(CANCEL_RESERVATION);
  const cancellable = r.status === 'CONFIRMED' || r.status === 'READY_FOR_PICKUP';

  async function doCancel() {
    setError(null);
    try {
      const { data } = await cancel({ variables: { id: r.id, reason: 'cancelled by the customer' } });
      if (data) {
        onChanged(data.cancelReservation);
        notify(`${r.item.name}: cancelled. Your payment is refunded.`, 'success');
      }
      setConfirming(false);
    } catch (err) {
      setError(describeError(apiError(err), 'cancel this reservation'));
    }
  }

  return (
    <li className="card" data-testid={`reservation-${r.id}`} data-status={r.status}>
      <div className="card-head">
        <h3>{r.item.name}</h3>
        <span className={`status status-${r.status}`} data-testid="reservation-status">
          {STATUS_LABEL[r.status]}
        </span>
      </div>
      <dl className="facts">
        <dt>Dates</dt>
        <dd>
          {formatDate(r.startDate)} → {formatDate(r.endDate)}
        </dd>
        <dt>Quantity</dt>
        <dd>{r.quantity}</dd>
        <dt>Price</dt>
        <dd>{formatMoney(r.totalPrice, r.rental?.payment.currency)}</dd>
        <dt>Store</dt>
        <dd>{r.item.store?.name ?? '—'}</dd>
        <dt>Store order</dt>
        <dd data-testid="store-order-status">{r.storeOrder ? r.storeOrder.status.replace('_', ' ').toLowerCase() : 'not yet created'}</dd>
        {r.rental && (
          <>
            <dt>Payment</dt>
            <dd>{r.rental.payment.status.toLowerCase()}</dd>
          </>
        )}
      </dl>
      <details>
        <summary>History ({r.history.length})</summary>
        <ol className="history">
          {r.history.map((h, i) => (
            <li key={i}>
              <time dateTime={h.at}>{new Date(h.at).toLocaleString()}</time> — {STATUS_LABEL[h.status]}
              {h.reason ? ` (${h.reason})` : ''}
            </li>
          ))}
        </ol>
      </details>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {cancellable &&
        (confirming ? (
          <div className="actions" role="group" aria-label="Confirm cancellation">
            <span>Cancel this reservation? Stock and payment are given back.</span>
            <button type="button" className="danger" onClick={() => void doCancel()} disabled={loading}>
              {loading ? 'Cancelling…' : 'Yes, cancel'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        ) : (
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setConfirming(true)}>
              Cancel reservation
            </button>
          </div>
        ))}
    </li>
  );
}
