/**
 * Debian's Chromium driven by playwright-core; no browser is ever downloaded.
 * `launch()` gives each run a fresh temporary profile, and each
 * `newContext()` is a separate browser session (own sessionStorage/cookies).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results/web');

/** Launches headless Chromium; fails (never skips) when it is not installed. */
export function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH); .ci/run installs it`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Signs in through the LOCAL-ONLY sign-in form (served by the test's web server). */
export async function signIn(page: Page, webUrl: string, who: { role: 'Customer' | 'Store staff' | 'Admin'; sub: string; storeId?: string }) {
  await page.goto(webUrl);
  await page.getByLabel('Role').selectOption({ label: who.role });
  await page.getByLabel('User id').fill(who.sub);
  if (who.storeId) await page.getByLabel('Store id').fill(who.storeId);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('signed-in-as').waitFor();
}

/** Collects console errors and failed page errors, for a readable test failure. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

/** ISO date `days` from today (UTC), like the API's calendar. */
export function dayFromToday(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
