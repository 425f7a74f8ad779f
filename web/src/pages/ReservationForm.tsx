/**
 * Reserve an item: the price is shown before confirming, the same checks as
 * the server run first (nothing is sent while a field is wrong), and the
 * server's answer is shown where it belongs (a field, or a sentence).
 */
import { forwardRef, useImperativeHandle, useMemo, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Field } from '../components/Field.tsx';
import { useToasts } from '../components/Toasts.tsx';
import { apiError, describeError, fieldMessage } from '../errors.ts';
import { CATALOG, CREATE_RESERVATION, STATUS_LABEL, type Item, type Reservation } from '../operations.ts';
import {
  formatMoney,
  isoDay,
  PAYMENT_TOKENS,
  priceOf,
  rentalDays,
  todayUtcDay,
  validateDraft,
  type DraftField,
  type FieldErrors,
  type ReservationDraft,
} from '../validation.ts';

export interface ReservationFormHandle {
  selectItem(item: Item): void;
}

interface Props {
  onCreated: (reservation: Reservation) => void;
  /** A failed attempt that the server kept (PAYMENT_FAILED, REJECTED): refresh the list. */
  onAttempted: () => void;
}

const TOKEN_LABEL: Record<(typeof PAYMENT_TOKENS)[number], string> = {
  tok_approve: 'Test card: approved',
  tok_decline: 'Test card: declined',
  tok_timeout: 'Test card: provider does not answer',
};

const FIELD_ORDER: DraftField[] = ['itemId', 'startDate', 'endDate', 'quantity', 'paymentToken'];

function freshDraft(itemId = ''): ReservationDraft {
  const today = todayUtcDay();
  return { itemId, startDate: isoDay(today + 1), endDate: isoDay(today + 4), quantity: '1', paymentToken: 'tok_approve' };
}

export const ReservationForm = forwardRef<ReservationFormHandle, Props>(function ReservationForm({ onCreated, onAttempted }, ref) {
  const { notify } = useToasts();
  const [draft, setDraft] = useState<ReservationDraft>(() => freshDraft());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [extraItem, setExtraItem] = useState<Item | null>(null);
  const fieldRefs = useRef<Partial<Record<DraftField, HTMLInputElement | HTMLSelectElement | null>>>({});
  const formRef = useRef<HTMLFormElement>(null);

  const catalog = useQuery(CATALOG, { variables: { first: 100 } });
  const items = useMemo(() => {
    const list = catalog.data?.items.edges.map((e) => e.node) ?? [];
    return extraItem && !list.some((i) => i.id === extraItem.id) ? [extraItem, ...list] : list;
  }, [catalog.data, extraItem]);
  const item = items.find((i) => i.id === draft.itemId);

  const [create, { loading }] = useMutation(CREATE_RESERVATION);

  useImperativeHandle(ref, () => ({
    selectItem(it: Item) {
      setExtraItem(it);
      setDraft((d) => ({ ...d, itemId: it.id }));
      setServerErrors({});
      setFormError(null);
      formRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
      setTimeout(() => fieldRefs.current.startDate?.focus(), 0);
    },
  }));

  const clientErrors = validateDraft(draft);
  const shownErrors: FieldErrors = { ...(submitted ? clientErrors : {}), ...serverErrors };
  const days = rentalDays(draft.startDate, draft.endDate);
  const quantity = /^\d+$/.test(draft.quantity.trim()) ? Number(draft.quantity) : NaN;
  const price = item ? priceOf(quantity, item.dailyRate, days) : null;

  const set = (field: DraftField) => (e: { target: { value: string } }) => {
    setDraft((d) => ({ ...d, [field]: e.target.value }));
    setServerErrors((s) => {
      const { [field]: _gone, ...rest } = s;
      return rest;
    });
    setFormError(null);
  };
  const bind = (field: DraftField) => ({
    name: field,
    value: draft[field],
    onChange: set(field),
    ref: (el: HTMLInputElement | HTMLSelectElement | null) => {
      fieldRefs.current[field] = el;
    },
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    setServerErrors({});
    setFormError(null);
    const errors = validateDraft(draft);
    const firstBad = FIELD_ORDER.find((f) => errors[f]);
    if (firstBad) {
      fieldRefs.current[firstBad]?.focus();
      return; // nothing is sent while a field is wrong
    }
    try {
      const { data } = await create({
        variables: {
          input: {
            itemId: draft.itemId,
            quantity: Number(draft.quantity),
            startDate: draft.startDate,
            endDate: draft.endDate,
            paymentToken: draft.paymentToken,
          },
        },
      });
      const r = data?.createReservation;
      if (r) {
        notify(`Reserved ${r.item.name}: ${STATUS_LABEL[r.status].toLowerCase()}, ${formatMoney(r.totalPrice)}.`, 'success');
        onCreated(r);
        setDraft(freshDraft(draft.itemId));
        setSubmitted(false);
      }
    } catch (err) {
      const info = apiError(err);
      if (info.code === 'BAD_USER_INPUT' && info.field && (FIELD_ORDER as string[]).includes(info.field)) {
        const field = info.field as DraftField;
        setServerErrors({ [field]: `${fieldMessage(info)}.` });
        fieldRefs.current[field]?.focus();
      } else if (info.code === 'BAD_USER_INPUT' && info.field === 'input') {
        setFormError(describeError(info, 'reserve'));
      } else {
        if (info.code === 'INSUFFICIENT_STOCK') {
          setServerErrors({ quantity: 'Not enough in stock for this quantity.' });
        }
        setFormError(
          info.code === 'SERVICE_UNAVAILABLE' || info.code === 'TRY_LATER'
            ? `${describeError(info, 'take your reservation')} Nothing was charged.`
            : describeError(info, 'reserve'),
        );
        if (info.code === 'PAYMENT_DECLINED' || info.code === 'INSUFFICIENT_STOCK' || info.code === 'SERVICE_UNAVAILABLE') onAttempted();
      }
    }
  }

  return (
    <section className="panel" aria-labelledby="reserve-title">
      <form ref={formRef} onSubmit={(e) => void submit(e)} noValidate data-testid="reservation-form">
        <h2 id="reserve-title">Reserve</h2>
        <Field label="Item" error={shownErrors.itemId}>
          <select {...bind('itemId')}>
            <option value="">{catalog.loading && !catalog.data ? 'Loading items…' : 'Choose an item'}</option>
            {items.map((i) => (
              <option key={i.id} value={i.id} disabled={i.stock < 1}>
                {i.name} — {formatMoney(i.dailyRate)}/day{i.store ? ` — ${i.store.name}` : ''}
                {i.stock < 1 ? ' (out of stock)' : ''}
              </option>
            ))}
          </select>
        </Field>
        <div className="row">
          <Field label="Start date" error={shownErrors.startDate} hint="Pick-up day (UTC).">
            <input type="date" min={isoDay(todayUtcDay())} {...bind('startDate')} />
          </Field>
          <Field label="End date" error={shownErrors.endDate} hint="Return day, not charged. At most 90 days.">
            <input type="date" min={draft.startDate || undefined} {...bind('endDate')} />
          </Field>
        </div>
        <div className="row">
          <Field label="Quantity" error={shownErrors.quantity}>
            <input type="number" inputMode="numeric" min={1} step={1} {...bind('quantity')} />
          </Field>
          <Field label="Payment" error={shownErrors.paymentToken} hint="Sandbox test tokens.">
            <select {...bind('paymentToken')}>
              {PAYMENT_TOKENS.map((t) => (
                <option key={t} value={t}>
                  {TOKEN_LABEL[t]} ({t})
                </option>
              ))}
            </select>
          </Field>
        </div>

        <div className="price" aria-live="polite" data-testid="price-preview">
          {item && price !== null && days !== null ? (
            <>
              <span>
                {quantity} × {formatMoney(item.dailyRate)} × {days} {days === 1 ? 'day' : 'days'} =
              </span>{' '}
              <strong data-testid="price-total">{formatMoney(price)}</strong>
            </>
          ) : (
            <span className="muted">
              {item ? 'Enter valid dates and a quantity to see the price.' : 'Choose an item, dates and a quantity to see the price.'}
            </span>
          )}
        </div>

        {formError && (
          <p className="form-error" role="alert" data-testid="form-error">
            {formError}
          </p>
        )}
        <button type="submit" disabled={loading}>
          {loading ? 'Reserving and paying…' : price !== null ? `Confirm and pay ${formatMoney(price)}` : 'Confirm reservation'}
        </button>
      </form>
    </section>
  );
});
