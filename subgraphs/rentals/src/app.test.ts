/** The subgraph over HTTP: identity header, health, the federation SDL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRentals, type TestRentals } from './testing.js';

let t: TestRentals;
beforeAll(async () => {
  t = await startTestRentals({}, false);
});
afterAll(async () => {
  await t?.stop();
});

describe('rentals subgraph over HTTP', () => {
  it('answers 401 UNAUTHENTICATED without an identity header', async () => {
    const res = await t.gql('{ rental(id: "x") { id } }', undefined, null);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('is live and ready', async () => {
    const base = t.api.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('publishes a federation SDL with the internal API @inaccessible', async () => {
    const res = await t.gql<{ _service: { sdl: string } }>('{ _service { sdl } }');
    const sdl = res.data?._service.sdl ?? '';
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
    expect(sdl).toMatch(/type Rental\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Reservation\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/chargePayment\(input: ChargePaymentInput!\): Payment! @inaccessible/);
    expect(sdl).toMatch(/refundPayment\(reservationId: ID!\): Payment @inaccessible/);
    expect(sdl).toMatch(/input ChargePaymentInput\s+@inaccessible/);
    expect(sdl).not.toMatch(/PROCESSING|PENDING_PAYMENT|providerRef|token:/);
  });
});
