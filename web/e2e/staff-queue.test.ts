/**
 * The staff page's order queue when a store has more orders than one page
 * (20): the first page holds the newest 20, "Older" follows the connection's
 * `endCursor` to the rest and "Newer" comes back; the pager shows the
 * store's `totalCount`. Moving to an older page announces nothing as new.
 * Real system (web/e2e/stack.ts), real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from '../../test/support/stack.ts';
import { collectPageErrors, dayFromToday, launchBrowser, screenshot, signIn } from './browser.ts';
import { startWebStack, type WebStack } from './stack.ts';

const STORE = `sq-${Date.now().toString(36)}`;
const ORDERS = 21;
let stack: WebStack;
let browser: Browser;
let context: BrowserContext | undefined;
/** Reservation ids of the store's orders, newest first (as the API lists them). */
let newestFirst: string[];

describe('staff order queue, more than one page', () => {
  beforeAll(async () => {
    stack = await startWebStack('staffq');
    browser = await launchBrowser();
    const admin = await stack.tokens.admin();
    const store = await stack.gql(admin, 'mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }', {
      i: { id: STORE, name: 'Queue Store', city: 'Dresden' },
    });
    expect(store.errors).toBeUndefined();
    const staff = await stack.tokens.staff(STORE);
    const item = await stack.gql<{ registerItem: { id: string } }>(staff, 'mutation($i: RegisterItemInput!) { registerItem(input: $i) { id } }', {
      i: { storeId: STORE, name: 'Fuji X-T5', category: 'camera', dailyRate: 3900, stock: ORDERS },
    });
    expect(item.errors).toBeUndefined();
    const customer = await stack.tokens.customer('queue-customer');
    for (let i = 0; i < ORDERS; i++) {
      const res = await stack.gql<{ createReservation: { status: string } }>(
        customer,
        'mutation($i: CreateReservationInput!) { createReservation(input: $i) { id status } }',
        { i: { itemId: item.data!.registerItem.id, quantity: 1, startDate: dayFromToday(1), endDate: dayFromToday(3), paymentToken: 'tok_approve' } },
      );
      expect(res.data?.createReservation.status).toBe('CONFIRMED');
    }
    newestFirst = await eventually(async () => {
      const res = await stack.gql<{ storeOrders: { totalCount: number; edges: Array<{ node: { reservationId: string } }> } }>(
        staff,
        'query($s: ID!) { storeOrders(storeId: $s, first: 100) { totalCount edges { node { reservationId } } } }',
        { s: STORE },
      );
      const page = res.data?.storeOrders;
      return page?.totalCount === ORDERS ? page.edges.map((e) => e.node.reservationId) : undefined;
    }, 30_000, `${ORDERS} store orders`);
  }, 180_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
  });

  it(`shows the newest 20 of ${ORDERS} orders, "Older" shows the oldest, "Newer" comes back; nothing is announced as new`, async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page: Page = await context.newPage();
    onTestFailed(async () => {
      await screenshot(page, 'staff-queue-FAILED').catch(() => undefined);
    });
    const errors = collectPageErrors(page);
    await signIn(page, stack.webUrl, { role: 'Store staff', sub: 'quinn', storeId: STORE });
    await page.getByRole('heading', { name: /Queue Store/ }).waitFor();

    const rows = page.locator('[data-testid="order-queue"] tbody tr');
    const newest = page.getByTestId(`order-${newestFirst[0]}`);
    const oldest = page.getByTestId(`order-${newestFirst[ORDERS - 1]}`);
    await newest.waitFor({ timeout: 10_000 });
    await expect.poll(() => rows.count()).toBe(20);
    expect(await oldest.count()).toBe(0);
    await page.getByText(`${ORDERS} orders`).waitFor();
    await screenshot(page, 'staff-queue-first-page');

    await page.getByRole('button', { name: 'Older' }).click();
    await oldest.waitFor({ timeout: 10_000 });
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    // At least one poll of the older page (every 2 s): its order was not seen before, and still is not "new".
    await page.waitForTimeout(2_500);
    expect(await page.getByText(/^(New order: .*|\d+ new orders\.)$/).count()).toBe(0);
    await screenshot(page, 'staff-queue-older-page');

    await page.getByRole('button', { name: 'Newer' }).click();
    await newest.waitFor({ timeout: 10_000 });
    await expect.poll(() => rows.count()).toBe(20);
    expect(await page.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);
    // A failed resource load (e.g. the favicon) is the browser's, not the page's.
    expect(errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
  }, 60_000);
});
