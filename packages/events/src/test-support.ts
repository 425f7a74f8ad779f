/**
 * Shared by this package's tests: server URLs, per-file isolation (queue
 * prefix, database name), polling. Not exported from the package.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@rental/observability';
import type { EventBus } from './bus.js';

/** Redis and MongoDB of the test run (the vitest global setup provides them). */
export function testServers(): { redisUrl: string; mongoUri: string } {
  const redisUrl = process.env.REDIS_URL;
  const mongoUri = process.env.MONGODB_URI;
  if (!redisUrl || !mongoUri) throw new Error('REDIS_URL and MONGODB_URI must be set for the events tests');
  return { redisUrl, mongoUri };
}

/** A name no other test file (or run) uses, for queue prefixes and databases. */
export function uniqueName(label: string): string {
  return `test_events_${label}_${randomUUID().slice(0, 8)}`;
}

/** Silent unless TEST_LOG_LEVEL=debug. */
export const testLogger = createLogger('events-test', process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent');

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Removes every queue of the bus's prefix from Redis. */
export async function obliterateQueues(bus: EventBus): Promise<void> {
  for (const queue of bus.allQueues()) await queue.obliterate({ force: true });
}
