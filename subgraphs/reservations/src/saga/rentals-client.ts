/**
 * The rentals subgraph as the saga uses it: charge and refund, both
 * idempotent per reservation id (docs/ARCHITECTURE.md, "Internal API").
 * A declined charge is an answer (`status: DECLINED`), not an error.
 */
import type { CallContext, DependencyClient } from './dependency.js';

export type PaymentStatus = 'PAID' | 'DECLINED' | 'FAILED' | 'REFUNDED';

export interface Payment {
  status: PaymentStatus;
  amount: number;
}

export interface ChargePaymentInput {
  reservationId: string;
  customerId: string;
  storeId: string;
  itemId: string;
  quantity: number;
  amount: number;
  paymentToken: string;
}

const CHARGE = `mutation ReservationsChargePayment($input: ChargePaymentInput!) {
  chargePayment(input: $input) { status amount }
}`;
const REFUND = `mutation ReservationsRefundPayment($reservationId: ID!) {
  refundPayment(reservationId: $reservationId) { status amount }
}`;

export class RentalsClient {
  constructor(readonly dependency: DependencyClient) {}

  async chargePayment(input: ChargePaymentInput, ctx?: CallContext): Promise<Payment> {
    const data = await this.dependency.request<{ chargePayment: Payment }>('ReservationsChargePayment', CHARGE, { input }, ctx);
    return data.chargePayment;
  }

  /** Refunds the reservation's payment (once); null when there is none. INVALID_STATE once the rental started. */
  async refundPayment(reservationId: string, ctx?: CallContext): Promise<Payment | null> {
    const data = await this.dependency.request<{ refundPayment: Payment | null }>(
      'ReservationsRefundPayment',
      REFUND,
      { reservationId },
      ctx,
    );
    return data.refundPayment;
  }
}
