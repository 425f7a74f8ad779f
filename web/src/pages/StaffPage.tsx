/**
 * The store's order queue and item registration. There is no subscription
 * for store orders, so the queue is polled every 2 s (and refetched right
 * after each action); orders not seen before are marked "New" until prepared.
 * The queue pages by cursor, newest first, as the catalog does; new orders
 * arrive on the first page, so only that page announces them.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Field } from '../components/Field.tsx';
import { useToasts } from '../components/Toasts.tsx';
import { apiError, describeError, fieldMessage } from '../errors.ts';
import {
  ORDER_RENTAL,
  PREPARE_ORDER,
  REGISTER_ITEM,
  RETURN_RENTAL,
  START_RENTAL,
  STORE,
  STORE_ORDERS,
  type StoreOrder,
  type StoreOrderStatus,
} from '../operations.ts';
import type { Session } from '../session.ts';
import { formatDate, formatMoney } from '../validation.ts';
import { gql } from '@apollo/client';

export const QUEUE_POLL_MS = 2000;
/** Orders per page of the queue. */
const QUEUE_PAGE = 20;

const STORES_LIST = gql`
  query Stores {
    stores {
      id
      name
      city
    }
  }
`;

const FILTERS: Record<string, { label: string; status: StoreOrderStatus[] | null }> = {
  open: { label: 'Open orders', status: ['PENDING', 'READY', 'HANDED_OVER'] },
  PENDING: { label: 'To prepare', status: ['PENDING'] },
  READY: { label: 'Ready for pick-up', status: ['READY'] },
  HANDED_OVER: { label: 'Handed over', status: ['HANDED_OVER'] },
  all: { label: 'All, including cancelled', status: null },
};

const ORDER_LABEL: Record<StoreOrderStatus, string> = {
  PENDING: 'To prepare',
  READY: 'Ready for pick-up',
  HANDED_OVER: 'Handed over',
  CANCELLED: 'Cancelled',
};

export function StaffPage({ session }: { session: Session }) {
  const [adminStore, setAdminStore] = useState('');
  const storeId = session.role === 'STAFF' ? (session.storeId ?? '') : adminStore;
  const stores = useQuery<{ stores: Array<{ id: string; name: string; city: string }> }>(STORES_LIST, { skip: session.role !== 'ADMIN' });
  const store = useQuery(STORE, { variables: { id: storeId }, skip: !storeId });

  return (
    <div className="columns">
      <div className="column wide">
        <section className="panel" aria-labelledby="store-title">
          <div className="panel-head">
            <h2 id="store-title">
              {store.data?.store ? `${store.data.store.name}, ${store.data.store.city}` : storeId ? `Store ${storeId}` : 'Store'}
            </h2>
            {session.role === 'ADMIN' && (
              <div className="inline-form">
                <label htmlFor="admin-store">Store</label>
                <select id="admin-store" value={adminStore} onChange={(e) => setAdminStore(e.target.value)}>
                  <option value="">Choose a store</option>
                  {stores.data?.stores.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} ({s.city})
                    </option>
                  ))}
                </select>
              </div>
            )}
          </div>
          {store.data && !store.data.store && <p className="hint warn">No store with id {storeId} is known yet; orders for it will still show.</p>}
          {storeId ? <OrderQueue key={storeId} storeId={storeId} /> : <p className="empty">Choose a store to see its orders.</p>}
        </section>
      </div>
      <div className="column">{storeId && <RegisterItemForm storeId={storeId} />}</div>
    </div>
  );
}

function OrderQueue({ storeId }: { storeId: string }) {
  const { notify } = useToasts();
  const [filter, setFilter] = useState('open');
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const seen = useRef<Set<string> | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const { data, previousData, loading, error, refetch } = useQuery(STORE_ORDERS, {
    variables: { storeId, status: FILTERS[filter]!.status, first: QUEUE_PAGE, after },
    pollInterval: QUEUE_POLL_MS,
  });
  const shown = data ?? previousData;
  const orders = shown?.storeOrders.edges.map((e) => e.node) ?? [];

  useEffect(() => {
    if (!data) return;
    const page = data.storeOrders.edges.map((e) => e.node);
    if (seen.current === null) {
      seen.current = new Set(page.map((o) => o.id)); // the first load is not "new"
      return;
    }
    const added = page.filter((o) => !seen.current!.has(o.id));
    for (const o of added) seen.current.add(o.id);
    // Orders arrive newest first, on the first page; a later page holds older ones, seen or not.
    if (added.length && after === null) {
      setFresh((f) => new Set([...f, ...added.map((o) => o.id)]));
      notify(added.length === 1 ? `New order: ${added[0]!.itemName} × ${added[0]!.quantity}.` : `${added.length} new orders.`);
    }
  }, [data, after, notify]);

  return (
    <>
      <div className="panel-head">
        <h3>Order queue</h3>
        <div className="inline-form">
          <label htmlFor="order-filter">Show</label>
          <select
            id="order-filter"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
              setCursors([null]);
            }}
          >
            {Object.entries(FILTERS).map(([k, f]) => (
              <option key={k} value={k}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="hint">New orders appear within {QUEUE_POLL_MS / 1000} seconds (the queue is refreshed automatically).</p>
      {error && !shown && (
        <div role="alert" className="form-error">
          {describeError(apiError(error), 'load the orders')}{' '}
          <button type="button" className="link" onClick={() => void refetch()}>
            Retry
          </button>
        </div>
      )}
      {loading && !shown && <p className="loading" role="status">Loading orders…</p>}
      {shown && orders.length === 0 && <p className="empty">No orders here. New ones appear by themselves.</p>}
      {orders.length > 0 && (
        <table className="table" data-testid="order-queue">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Dates</th>
              <th scope="col">Customer</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <OrderRow key={o.id} order={o} isNew={fresh.has(o.id) && o.status === 'PENDING'} onDone={() => void refetch()} />
            ))}
          </tbody>
        </table>
      )}
      {shown && (
        <div className="pager">
          <span>
            {shown.storeOrders.totalCount} {shown.storeOrders.totalCount === 1 ? 'order' : 'orders'}
          </span>
          <button type="button" className="secondary small" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            className="secondary small"
            disabled={!shown.storeOrders.pageInfo.hasNextPage}
            onClick={() => setCursors((c) => [...c, shown.storeOrders.pageInfo.endCursor])}
          >
            Older
          </button>
        </div>
      )}
    </>
  );
}

function OrderRow({ order: o, isNew, onDone }: { order: StoreOrder; isNew: boolean; onDone: () => void }) {
  const { notify } = useToasts();
  const [error, setError] = useState<string | null>(null);
  const [prepare, prep] = useMutation(PREPARE_ORDER);
  const [start, starting] = useMutation(START_RENTAL);
  const [giveBack, returning] = useMutation(RETURN_RENTAL);
  const rental = useQuery(ORDER_RENTAL, { variables: { id: o.reservationId }, skip: o.status !== 'HANDED_OVER' });
  const rentalInfo = rental.data?.reservation?.rental;

  async function run(what: string, action: () => Promise<unknown>, done: string) {
    setError(null);
    try {
      await action();
      notify(done, 'success');
      onDone();
      if (o.status === 'HANDED_OVER' || what === 'hand over') void rental.refetch();
    } catch (err) {
      setError(describeError(apiError(err), what));
    }
  }

  const label = `${o.itemName} × ${o.quantity}`;
  return (
    <tr data-testid={`order-${o.reservationId}`} data-status={o.status} className={isNew ? 'new' : undefined}>
      <th scope="row">
        {label} {isNew && <span className="badge new-badge">New</span>}
        <span className="sub">reservation {o.reservationId.slice(0, 8)}</span>
      </th>
      <td>
        <span className="nowrap">{formatDate(o.startDate)} →</span> <span className="nowrap">{formatDate(o.endDate)}</span>
      </td>
      <td>{o.customerId}</td>
      <td>
        <span className={`status order-${o.status}`}>{ORDER_LABEL[o.status]}</span>
        {o.status === 'HANDED_OVER' && rentalInfo && <span className="sub">rental {rentalInfo.status.toLowerCase()}</span>}
      </td>
      <td className="row-actions">
        {o.status === 'PENDING' && (
          <button
            type="button"
            className="small"
            disabled={prep.loading}
            aria-label={`Prepare ${label}`}
            onClick={() => void run('prepare this order', () => prepare({ variables: { orderId: o.id } }), `${label}: prepared, ready for pick-up.`)}
          >
            {prep.loading ? 'Preparing…' : 'Prepare'}
          </button>
        )}
        {o.status === 'READY' && (
          <button
            type="button"
            className="small"
            disabled={starting.loading}
            aria-label={`Hand over ${label}`}
            onClick={() => void run('hand over', () => start({ variables: { reservationId: o.reservationId } }), `${label}: handed over.`)}
          >
            {starting.loading ? 'Handing over…' : 'Hand over'}
          </button>
        )}
        {o.status === 'HANDED_OVER' && rentalInfo?.status === 'ACTIVE' && (
          <button
            type="button"
            className="small"
            disabled={returning.loading}
            aria-label={`Return ${label}`}
            onClick={() =>
              void run('take the return', () => giveBack({ variables: { rentalId: rentalInfo.id } }), `${label}: returned, stock given back.`)
            }
          >
            {returning.loading ? 'Returning…' : 'Return'}
          </button>
        )}
        {o.status === 'HANDED_OVER' && rental.loading && !rentalInfo && <span className="muted">…</span>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </td>
    </tr>
  );
}

type ItemField = 'name' | 'description' | 'category' | 'dailyRate' | 'stock';

function RegisterItemForm({ storeId }: { storeId: string }) {
  const { notify } = useToasts();
  const empty = { name: '', description: '', category: '', dailyRate: '', stock: '1' };
  const [form, setForm] = useState(empty);
  const [errors, setErrors] = useState<Partial<Record<ItemField | 'form', string>>>({});
  const [register, { loading }] = useMutation(REGISTER_ITEM, { refetchQueries: ['Catalog'] });
  const refs = useRef<Partial<Record<ItemField, HTMLInputElement | null>>>({});

  function validate(): Partial<Record<ItemField, string>> {
    const e: Partial<Record<ItemField, string>> = {};
    if (!form.name.trim()) e.name = 'Enter the item’s name.';
    else if (form.name.trim().length > 200) e.name = 'At most 200 characters.';
    if (!form.category.trim()) e.category = 'Enter a category, e.g. camera.';
    if (!/^\d+([.,]\d{1,2})?$/.test(form.dailyRate.trim())) e.dailyRate = 'Enter a price per day, e.g. 45 or 45.50.';
    else if (Math.round(Number(form.dailyRate.replace(',', '.')) * 100) < 1) e.dailyRate = 'The price must be more than zero.';
    if (!/^\d+$/.test(form.stock.trim())) e.stock = 'Enter a whole number, 0 or more.';
    return e;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const e = validate();
    setErrors(e);
    const first = (['name', 'category', 'dailyRate', 'stock'] as ItemField[]).find((f) => e[f]);
    if (first) {
      refs.current[first]?.focus();
      return;
    }
    try {
      const { data } = await register({
        variables: {
          input: {
            storeId,
            name: form.name.trim(),
            ...(form.description.trim() ? { description: form.description.trim() } : {}),
            category: form.category.trim(),
            dailyRate: Math.round(Number(form.dailyRate.replace(',', '.')) * 100),
            stock: Number(form.stock),
          },
        },
      });
      if (data) notify(`Registered ${data.registerItem.name} (${formatMoney(data.registerItem.dailyRate)}/day, ${data.registerItem.stock} in stock).`, 'success');
      setForm(empty);
    } catch (err) {
      const info = apiError(err);
      if (info.code === 'BAD_USER_INPUT' && info.field && info.field in empty) {
        setErrors({ [info.field]: `${fieldMessage(info)}.` });
        refs.current[info.field as ItemField]?.focus();
      } else setErrors({ form: describeError(info, 'register this item') });
    }
  }

  const bind = (f: ItemField) => ({
    value: form[f],
    onChange: (e: { target: { value: string } }) => setForm((s) => ({ ...s, [f]: e.target.value })),
    ref: (el: HTMLInputElement | null) => {
      refs.current[f] = el;
    },
  });

  return (
    <section className="panel" aria-labelledby="register-title">
      <form onSubmit={(e) => void submit(e)} noValidate data-testid="register-form">
        <h2 id="register-title">Register an item</h2>
        <Field label="Name" error={errors.name}>
          <input {...bind('name')} />
        </Field>
        <Field label="Description (optional)" error={errors.description}>
          <input {...bind('description')} />
        </Field>
        <Field label="Category" error={errors.category} hint="e.g. camera, laptop, car">
          <input {...bind('category')} />
        </Field>
        <div className="row">
          <Field label="Price per day (€)" error={errors.dailyRate}>
            <input inputMode="decimal" {...bind('dailyRate')} />
          </Field>
          <Field label="Stock" error={errors.stock}>
            <input type="number" min={0} step={1} inputMode="numeric" {...bind('stock')} />
          </Field>
        </div>
        {errors.form && (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        )}
        <button type="submit" disabled={loading}>
          {loading ? 'Registering…' : 'Register item'}
        </button>
      </form>
    </section>
  );
}
