/**
 * One-click sign-in under `npm start` (issue 14): the real start script runs
 * (web/dist served by web/serve.ts with LOCAL_SIGN_IN=true, the demo data
 * seeded, the real router and subgraphs); in Debian's Chromium, "demo
 * customer" signs in with one click and reserves a seeded S1 item at once;
 * "staff of S1" lands on S1's order queue and sees that order; "admin" lands
 * on the store page with the seeded stores to choose from.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, dayFromToday, launchBrowser, screenshot } from './browser.ts';
import { startNpmStart, type NpmStart } from './npm-start.ts';

const ITEM = 'Sony A7 IV'; // seeded in S1 "Downtown" at €45/day (infra/local/seed.ts)
let start: NpmStart;
let browser: Browser;

beforeAll(async () => {
  start = await startNpmStart('oneclick');
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await start?.stop();
}, 90_000);

/** Opens the sign-in page and clicks one of the one-click buttons. */
async function oneClick(page: Page, label: 'demo customer' | 'staff of S1' | 'admin'): Promise<void> {
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.getByTestId('signed-in-as').waitFor();
}

describe('one-click sign-in under npm start', () => {
  it('npm start seeded the demo data and says how to sign in', () => {
    const out = start.output().join('\n');
    expect(out).toMatch(/\[start\] demo data loaded: 2 store\(s\) and 13 item\(s\) created/);
    expect(out).toContain('sign in there with one click: demo customer, staff of S1 or admin');
  });

  it('demo customer reserves a seeded item at once; staff of S1 sees the order; admin lands on the store page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    onTestFailed(async () => {
      await screenshot(page, 'one-click-FAILED').catch(() => undefined);
    });
    const errors = collectPageErrors(page);
    await page.goto(start.webUrl);
    await page.getByRole('heading', { name: 'Sign in with one click' }).waitFor();
    await expect.poll(() => page.getByRole('heading', { name: 'Or paste a token' }).count()).toBe(1);
    await screenshot(page, 'one-click-sign-in');

    // Demo customer: one click, on the customer page, reserves a seeded item.
    await oneClick(page, 'demo customer');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('demo-customer · customer');
    await page.getByRole('searchbox').fill('Sony A7');
    await page.getByRole('searchbox').press('Enter');
    await page.getByRole('button', { name: `Reserve ${ITEM}` }).click();
    await page.getByLabel('Start date').fill(dayFromToday(1));
    await page.getByLabel('End date').fill(dayFromToday(3));
    await page.getByLabel('Quantity').fill('1');
    await expect.poll(() => page.getByTestId('price-total').textContent()).toBe('€90.00'); // 1 × €45 × 2 days
    await page.getByRole('button', { name: 'Confirm and pay €90.00' }).click();
    const card = page.locator('li[data-testid^="reservation-"]').filter({ hasText: ITEM }).first();
    await card.waitFor();
    const reservationId = (await card.getAttribute('data-testid'))!.replace('reservation-', '');
    await page.locator(`[data-testid="reservation-${reservationId}"][data-status="CONFIRMED"]`).waitFor({ timeout: 15_000 });
    await screenshot(page, 'one-click-customer-reserved');

    // Staff of S1: one click, lands on Downtown's order queue, sees the order.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await oneClick(page, 'staff of S1');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('staff-s1 · staff · store S1');
    await page.getByRole('heading', { name: 'Downtown, Springfield' }).waitFor();
    await page.getByTestId(`order-${reservationId}`).waitFor({ timeout: 15_000 });
    await screenshot(page, 'one-click-staff-s1-order');

    // Admin: one click, lands on the store page with the seeded stores.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await oneClick(page, 'admin');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('admin · admin');
    const storeChoice = page.getByRole('combobox', { name: 'Store' });
    await storeChoice.waitFor();
    await expect.poll(() => storeChoice.locator('option').allTextContents()).toEqual(
      expect.arrayContaining(['Downtown (Springfield)', 'Airport (Springfield)']),
    );
    await expect.poll(() => page.getByRole('button', { name: 'Store', pressed: true }).count()).toBe(1);

    expect(errors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
    await context.close();
  }, 120_000);
});
