/**
 * The rentals subgraph as the saga uses it: charge and refund, both
 * idempotent per reservation id (docs/ARCHITECTURE.md, "Internal API").
 * A declined charge is an answer (`status: DECLINED`), not an error.
 */
import type {
  ChargePaymentInput,
  ReservationsChargePaymentMutation,
  ReservationsChargePaymentMutationVariables,
  ReservationsRefundPaymentMutation,
  ReservationsRefundPaymentMutationVariables,
} from '../generated/rentals.js';
import type { CallContext, DependencyClient } from './dependency.js';

/** A payment as the saga reads it (types generated from the rentals schema: `npm run codegen`). */
export type Payment = ReservationsChargePaymentMutation['chargePayment'];

const CHARGE = /* GraphQL */ `mutation ReservationsChargePayment($input: ChargePaymentInput!) {
  chargePayment(input: $input) { status amount }
}`;
const REFUND = /* GraphQL */ `mutation ReservationsRefundPayment($reservationId: ID!) {
  refundPayment(reservationId: $reservationId) { status amount }
}`;

export class RentalsClient {
  constructor(readonly dependency: DependencyClient) {}

  async chargePayment(input: ChargePaymentInput, ctx?: CallContext): Promise<Payment> {
    const variables: ReservationsChargePaymentMutationVariables = { input };
    const data = await this.dependency.request<ReservationsChargePaymentMutation>('ReservationsChargePayment', CHARGE, variables, ctx);
    return data.chargePayment;
  }

  /** Refunds the reservation's payment (once); null when there is none. INVALID_STATE once the rental started. */
  async refundPayment(reservationId: string, ctx?: CallContext): Promise<Payment | null> {
    const variables: ReservationsRefundPaymentMutationVariables = { reservationId };
    const data = await this.dependency.request<ReservationsRefundPaymentMutation>('ReservationsRefundPayment', REFUND, variables, ctx);
    return data.refundPayment;
  }
}
