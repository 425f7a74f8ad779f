/**
 * A bad reservation (end before start) shows the field error next to the
 * field, and no createReservation is sent (so none can succeed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { collectPageErrors, dayFromToday, launchBrowser, screenshot, signIn } from './browser.ts';
import { startWebStack, type WebStack } from './stack.ts';

const STORE = `vs-${Date.now().toString(36)}`;
let stack: WebStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startWebStack('validation');
  browser = await launchBrowser();
  const admin = await stack.tokens.admin();
  const store = await stack.gql(admin, 'mutation($i: CreateStoreInput!) { createStore(input: $i) { id } }', {
    i: { id: STORE, name: 'Validation Store', city: 'Lyon' },
  });
  expect(store.errors).toBeUndefined();
  const staff = await stack.tokens.staff(STORE, 'sam');
  const reg = await stack.gql(staff, 'mutation($i: RegisterItemInput!) { registerItem(input: $i) { id } }', {
    i: { storeId: STORE, name: 'Fujifilm X-T5', category: 'camera', dailyRate: 3500, stock: 4 },
  });
  expect(reg.errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('reservation form validation in a real browser', () => {
  it('end before start: the field error is shown and no createReservation is sent', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors = collectPageErrors(page);
    const mutations: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/graphql') && req.method() === 'POST' && (req.postData() ?? '').includes('createReservation')) {
        mutations.push(req.postData() ?? '');
      }
    });

    await signIn(page, stack.webUrl, { role: 'Customer', sub: 'vera' });
    await page.getByRole('button', { name: 'Reserve Fujifilm X-T5' }).click();
    await page.getByLabel('Start date').fill(dayFromToday(5));
    await page.getByLabel('End date').fill(dayFromToday(2));
    await page.getByLabel('Quantity').fill('1');
    await page.getByRole('button', { name: /^Confirm/ }).click();

    const endDate = page.getByLabel('End date');
    const error = page.getByText('The end date must be after the start date.');
    await error.waitFor();
    expect(await endDate.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await endDate.getAttribute('aria-describedby')) ?? '';
    const errorId = await error.getAttribute('id');
    expect(describedBy.split(' ')).toContain(errorId);
    // Focus goes to the field to fix.
    expect(await endDate.evaluate((el) => el === document.activeElement)).toBe(true);
    await screenshot(page, 'validation-end-before-start');

    // A quantity of 0 is refused the same way, next to its own field.
    await page.getByLabel('End date').fill(dayFromToday(7));
    await page.getByLabel('Quantity').fill('0');
    await page.getByRole('button', { name: /^Confirm/ }).click();
    await page.getByText('The quantity must be at least 1.').waitFor();
    expect(await page.getByLabel('Quantity').getAttribute('aria-invalid')).toBe('true');

    await page.waitForTimeout(300);
    expect(mutations).toEqual([]);
    expect(pageErrors.filter((e) => !e.includes('Failed to load resource'))).toEqual([]);
    await context.close();
  });
});
