import { useRef } from 'react';
import type { Api } from '../apollo.ts';
import type { Session } from '../session.ts';
import { ErrorBoundary } from '../components/ErrorBoundary.tsx';
import { Catalog } from './Catalog.tsx';
import { MyReservations, type MyReservationsHandle } from './MyReservations.tsx';
import { ReservationForm, type ReservationFormHandle } from './ReservationForm.tsx';

export function CustomerPage({ api }: { session: Session; api: Api }) {
  const form = useRef<ReservationFormHandle>(null);
  const mine = useRef<MyReservationsHandle>(null);
  return (
    <div className="columns">
      <div className="column">
        <ErrorBoundary what="the catalog">
          <Catalog onReserve={(item) => form.current?.selectItem(item)} />
        </ErrorBoundary>
        <ErrorBoundary what="the reservation form">
          <ReservationForm ref={form} onCreated={(r) => mine.current?.add(r)} onAttempted={() => mine.current?.refresh()} />
        </ErrorBoundary>
      </div>
      <div className="column">
        <ErrorBoundary what="your reservations">
          <MyReservations ref={mine} api={api} />
        </ErrorBoundary>
      </div>
    </div>
  );
}
