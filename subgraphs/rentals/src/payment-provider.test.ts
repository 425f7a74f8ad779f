/**
 * PAYMENT_PROVIDER chooses the provider at start-up, through the real config
 * loader and start functions (and the real process entry): a value no
 * provider has stops start-up with one message naming the variable;
 * production refuses the sandbox unless ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION
 * is true, and with it starts and charges through the sandbox.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@rental/config';
import { connectDatabase } from '@rental/db';
import { EventBus } from '@rental/events';
import { callSubgraph } from '@rental/subgraph-server/testing';
import { startRentals, type RunningRentals } from './app.js';
import { rentalsConfigShape } from './config.js';
import { paymentProviderFromConfig } from './payments/index.js';
import { as, CHARGE } from './testing.js';
import { startRentalsWorker } from './worker.js';

const secret = process.env.INTERNAL_JWT_SECRET ?? randomBytes(24).toString('hex');
const queuePrefix = `test_paycfg_${randomBytes(4).toString('hex')}`;

/** The environment of a rentals process, with `overrides`; PAYMENT_* and NODE_ENV only as given. */
function rentalsEnv(overrides: Record<string, string>): Record<string, string | undefined> {
  const { PAYMENT_PROVIDER: _p, ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION: _a, NODE_ENV: _n, ...inherited } = process.env;
  return { ...inherited, INTERNAL_JWT_SECRET: secret, LOG_LEVEL: 'silent', QUEUE_PREFIX: queuePrefix, RENTALS_PORT: '0', ...overrides };
}

/** The ConfigError problems `fn` throws (or rejects with). */
async function problemsOf(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

/** Runs the API process entry (src/main.ts) with `env` until it exits; its exit code and output. */
function runMain(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rentals main did not exit within 30 s:\n${stderr}`));
    }, 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const REFUSED = /^PAYMENT_PROVIDER: production refuses the sandbox payment provider.*ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION=true/;

describe('PAYMENT_PROVIDER', () => {
  it('defaults to the sandbox; outside production it needs no flag', () => {
    for (const NODE_ENV of ['development', 'test']) {
      const config = parseConfig(rentalsConfigShape, rentalsEnv({ NODE_ENV }));
      expect(config.PAYMENT_PROVIDER).toBe('sandbox');
      expect(paymentProviderFromConfig(config).name).toBe('sandbox');
    }
  });

  it.each(['stripe', 'Sandbox', 'sandbox,stripe'])('%j is no provider: one problem, naming PAYMENT_PROVIDER', async (value) => {
    const problems = await problemsOf(() => parseConfig(rentalsConfigShape, rentalsEnv({ PAYMENT_PROVIDER: value })));
    expect(problems).toEqual([`PAYMENT_PROVIDER: must be one of sandbox, got "${value}"`]);
  });

  it('a bad value stops the process at start with exit code 1 and that one message', async () => {
    const { code, stderr } = await runMain(rentalsEnv({ PAYMENT_PROVIDER: 'stripe' }));
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration:\n  - PAYMENT_PROVIDER: must be one of sandbox, got "stripe"\n');
    expect(stderr.match(/^ {2}- /gm)).toHaveLength(1);
  });
});

describe('the sandbox in production', () => {
  const running: RunningRentals[] = [];
  const dbPrefix = `test_paycfg_${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    for (const r of running) await r.stop();
    const conn = await connectDatabase(parseConfig(rentalsConfigShape, rentalsEnv({})).MONGODB_URI, `${dbPrefix}_rentals`);
    await conn.dropDatabase();
    await conn.close();
    const bus = new EventBus({ redisUrl: parseConfig(rentalsConfigShape, rentalsEnv({})).REDIS_URL, prefix: queuePrefix });
    for (const q of bus.allQueues()) await q.obliterate({ force: true }).catch(() => undefined);
    await bus.close();
  });

  it.each([
    ['unset', {}],
    ['false', { ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION: 'false' }],
  ])('is refused by the API and the worker when the allow flag is %s', async (_flag, flag: Record<string, string>) => {
    for (const provider of [{}, { PAYMENT_PROVIDER: 'sandbox' }] as Array<Record<string, string>>) {
      const config = parseConfig(rentalsConfigShape, rentalsEnv({ NODE_ENV: 'production', ...provider, ...flag }));
      const api = await problemsOf(() => startRentals(config, { port: 0, dbPrefix }));
      expect(api).toHaveLength(1);
      expect(api[0]).toMatch(REFUSED);
      const worker = await problemsOf(() => startRentalsWorker(config, { dbPrefix }));
      expect(worker).toEqual(api);
    }
  });

  it('is refused by the process entry: exit code 1 and the message', async () => {
    const { code, stderr } = await runMain(rentalsEnv({ NODE_ENV: 'production' }));
    expect(code).toBe(1);
    expect(stderr).toMatch(/Invalid configuration:\n {2}- PAYMENT_PROVIDER: production refuses the sandbox payment provider/);
  });

  it('starts with ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION=true and charges through the sandbox', async () => {
    const config = parseConfig(rentalsConfigShape, rentalsEnv({ NODE_ENV: 'production', ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION: 'true' }));
    expect(config.ALLOW_SANDBOX_PAYMENTS_IN_PRODUCTION).toBe(true);
    const api = await startRentals(config, { port: 0, dbPrefix });
    running.push(api);
    expect((await fetch(api.url.replace(/\/graphql$/, '/readyz'))).status).toBe(200);

    const reservationId = randomUUID();
    const input = { reservationId, customerId: 'carol', storeId: 'S1', itemId: '65a1b2c3d4e5f60718293a4b', quantity: 1, amount: 4500, paymentToken: 'tok_approve' };
    const res = await callSubgraph<{ chargePayment: { status: string } }>(api.url, secret, CHARGE, { input }, as.service);
    expect(res.errors).toBeUndefined();
    expect(res.data?.chargePayment.status).toBe('PAID');
    const rental = await api.runtime.conn.collection('rentals').findOne({ reservationId });
    expect(rental?.payment?.provider).toBe('sandbox');
  });
});
