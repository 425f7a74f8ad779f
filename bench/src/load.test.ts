/**
 * The load generators count only successful answers as throughput and
 * report errors apart (a run whose every answer fails must not look fast).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autocannonPost, closedLoop } from './load.js';

const GOOD = '{"data":{"ok":true}}';

describe('load generators', () => {
  let server: http.Server;
  let url: string;
  let served = 0;

  beforeAll(async () => {
    // Every other answer is a 500 with an error body.
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const fail = served++ % 2 === 1;
        res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
        res.end(fail ? '{"errors":[{"message":"boom"}]}' : GOOD);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('autocannon: failed answers are errors, not requests/s', async () => {
    const f = await autocannonPost('half-failing', url, {}, '{}', GOOD, { connections: 2, durationSec: 1, warmupSec: 0 });
    expect(f.total).toBeGreaterThan(20);
    const ok = f.total - f.errors;
    // About half fail; each failure is counted once (not as non-2xx and again as a wrong body).
    expect(f.errors / f.total).toBeGreaterThan(0.4);
    expect(f.errors / f.total).toBeLessThan(0.6);
    // The run lasts about 1 s (autocannon's own measured duration).
    expect(f.requestsPerSec / ok).toBeGreaterThan(0.9);
    expect(f.requestsPerSec / ok).toBeLessThan(1.02);
    expect(f.errorDetail).toMatch(/wrong answers \d+ \(of them non-2xx \d+\)/);
  });

  it('closed loop: only successful iterations are throughput', async () => {
    let n = 0;
    const f = await closedLoop('half-failing', { connections: 1, durationSec: 0.5, warmupSec: 0 }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      return n++ % 2 === 1 ? 'refused' : undefined;
    });
    expect(f.errors).toBeGreaterThan(5);
    expect(f.requestsPerSec).toBeCloseTo((f.total - f.errors) / 0.5, 5);
    expect(f.errorDetail).toMatch(/× refused/);
  });
});
