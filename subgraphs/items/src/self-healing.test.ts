/**
 * Self-healing probes against a real database server that goes away: a
 * throwaway MongoDB-compatible server (infra/local/mongo.ts, FerretDB here)
 * in a temp dir, stopped mid-test. Readiness fails at once; liveness only
 * after DB_LOSS_GRACE_MS, so an orchestrator restarts the process then.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@rental/config';
import { createLogger } from '@rental/observability';
import { startMongo, type MongoServer } from '../../../infra/local/mongo.js';
import { itemsConfigShape } from './config.js';
import { startItems, type RunningItems } from './app.js';

const GRACE_MS = 4_000;
let dir: string;
let mongo: MongoServer;
let items: RunningItems;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'items-db-loss-'));
  // A server of our own (not the shared one of the run), so it can be stopped.
  const shared = process.env.MONGODB_URI;
  delete process.env.MONGODB_URI;
  try {
    mongo = await startMongo({ dataDir: dir });
  } finally {
    process.env.MONGODB_URI = shared;
  }
  const config = parseConfig(itemsConfigShape, {
    ...process.env,
    MONGODB_URI: mongo.uri,
    DB_LOSS_GRACE_MS: String(GRACE_MS),
    LOG_LEVEL: 'silent',
  });
  items = await startItems(config, { port: 0, dbName: 'self_healing_items', logger: createLogger('items', 'silent') });
  base = items.url.replace(/\/graphql$/, '');
}, 120_000);

afterAll(async () => {
  await items?.stop().catch(() => undefined);
  await mongo?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const status = async (path: string) => {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('database lost', () => {
  it('readiness fails at once, liveness only after DB_LOSS_GRACE_MS', async () => {
    expect((await status('/readyz')).status).toBe(200);
    expect((await status('/healthz')).status).toBe(200);

    await mongo.stop();
    const lostAt = Date.now();
    // At once: the first readiness probe after the loss fails (bounded by the 2 s check timeout).
    const ready = await status('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ reason: 'dependency unavailable' });
    expect(Date.now() - lostAt).toBeLessThan(3_000);

    // Within the grace period the process stays alive (a restart would not bring the database back).
    const early = await status('/healthz');
    expect(early.status).toBe(200);
    expect(early.body.dependencyDownMs).toBeTypeOf('number');

    // Past it, liveness fails: time to restart.
    let live = early;
    while (Date.now() - lostAt < GRACE_MS + 5_000) {
      live = await status('/healthz');
      if (live.status === 503) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(live.status).toBe(503);
    expect(live.body).toMatchObject({ status: 'unhealthy', reason: 'dependency lost past the grace period' });
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(GRACE_MS);
  }, 30_000);
});
