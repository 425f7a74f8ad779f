import type { BaseContext } from '@rental/subgraph-server';
import type { ReservationsData } from './data/index.js';
import type { ReservationSaga } from './saga/reservation-saga.js';

export interface ReservationsContext extends BaseContext {
  data: ReservationsData;
  saga: ReservationSaga;
}
