/** The process entry point: SIGTERM turns readiness off, drains, exits 0. */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INTERNAL_SECRET, startFixture, USER_SECRET, type Fixture } from './test-fixtures.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(() => fx?.stop());

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

it('on SIGTERM: /readyz fails, an in-flight request completes, the process exits 0', async () => {
  const port = await freePort();
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      ALLOW_HS256_IN_PRODUCTION: 'true',
      LOG_LEVEL: 'info',
      ROUTER_PORT: String(port),
      INTERNAL_JWT_SECRET: INTERNAL_SECRET,
      JWT_SECRET: USER_SECRET,
      SUPERGRAPH_PATH: fx.writeSupergraph(),
      SHUTDOWN_DELAY_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 25_000;
    while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`router did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const inFlight = fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ slow(ms: 1500) }' }),
    }).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    // Readiness turns off while the listener still accepts (SHUTDOWN_DELAY_MS).
    let readyStatus = 200;
    for (let i = 0; i < 15 && readyStatus === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      readyStatus = (await fetch(`${base}/readyz`)).status;
    }
    expect(readyStatus).toBe(503);
    expect(await inFlight).toEqual({ data: { slow: 1500 } });
    expect(await exited).toBe(0);
    expect(output).toContain('router stopped');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 40_000);
