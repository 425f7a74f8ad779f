/**
 * The supervisor brings a killed service back: a tiny HTTP server is started
 * under it, killed with SIGKILL, and must answer again within 10 seconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPath } from './paths.js';
import { freePort } from './ports.js';
import { Supervisor, waitForHttpOk } from './supervisor.js';

const dir = dataPath(`supervisor-test-${process.pid}`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('supervisor', () => {
  it('restarts a service killed with SIGKILL, and stops it for good on stop()', async () => {
    fs.mkdirSync(dir, { recursive: true });
    const entry = path.join(dir, 'server.ts');
    fs.writeFileSync(
      entry,
      "import http from 'node:http';\n" +
        "const server = http.createServer((_req, res) => res.end(String(process.pid)));\n" +
        'server.listen(Number(process.env.PORT), "127.0.0.1");\n' +
        "process.on('SIGTERM', () => server.close(() => process.exit(0)));\n",
    );
    const port = await freePort();
    const sup = new Supervisor({ name: 'probe', entry, env: { ...process.env, PORT: String(port) } });
    sup.start();
    try {
      const url = `http://127.0.0.1:${port}/`;
      expect(await waitForHttpOk(url, 15_000)).toBe(true);
      const firstPid = sup.pid as number;
      process.kill(firstPid, 'SIGKILL');
      const killedAt = Date.now();
      expect(await waitForHttpOk(url, 10_000)).toBe(true);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      expect(sup.pid).not.toBe(firstPid);
      expect(sup.restarts).toBe(1);
    } finally {
      await sup.stop(5_000);
    }
    expect(await waitForHttpOk(`http://127.0.0.1:${port}/`, 1_000)).toBe(false);
    expect(sup.restarts).toBe(1);
  });
});
