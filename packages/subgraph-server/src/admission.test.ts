import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { Admission } from './admission.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Work that runs until released, counting how many run at once. */
function gatedWork() {
  let running = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  return {
    get peak() {
      return peak;
    },
    releaseAll: () => releases.splice(0).forEach((r) => r()),
    work: async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
      return 'done';
    },
  };
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof DomainError ? e.code : String(e)));

describe('Admission', () => {
  it('runs at most `concurrency` at once, queues up to `queue`, and refuses the rest with TRY_LATER at once', async () => {
    const gate = new Admission({ name: 'test', concurrency: 2, queue: 3, retryAfterSeconds: 2 });
    const w = gatedWork();
    const deadline = Date.now() + 10_000;
    const results = Array.from({ length: 8 }, () => codeOf(gate.run(deadline, w.work)));
    await sleep(20);
    expect(gate.running).toBe(2);
    expect(gate.queued).toBe(3);
    const t0 = Date.now();
    const refused = await Promise.race([Promise.all(results.slice(5)), sleep(1_000).then(() => 'slow')]);
    expect(refused).toEqual(['TRY_LATER', 'TRY_LATER', 'TRY_LATER']);
    expect(Date.now() - t0).toBeLessThan(200);
    for (let i = 0; i < 3; i += 1) {
      w.releaseAll();
      await sleep(20);
    }
    expect(await Promise.all(results.slice(0, 5))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(w.peak).toBe(2);
  });

  it('a waiter whose deadline passes gets TRY_LATER and never runs; running work past its deadline answers SERVICE_UNAVAILABLE', async () => {
    const gate = new Admission({ name: 'test', concurrency: 1, queue: 5, retryAfterSeconds: 1 });
    let ranLate = false;
    let finished = false;
    const slow = codeOf(gate.run(Date.now() + 150, async () => {
      await sleep(400);
      finished = true;
    }));
    const waiter = codeOf(gate.run(Date.now() + 100, async () => {
      ranLate = true;
    }));
    const t0 = Date.now();
    expect(await waiter).toBe('TRY_LATER');
    expect(Date.now() - t0).toBeLessThan(180);
    expect(await slow).toBe('SERVICE_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(300);
    // The overrunning work still holds its slot until it ends; the expired waiter never ran.
    expect(gate.running).toBe(1);
    await sleep(400);
    expect(finished).toBe(true);
    expect(ranLate).toBe(false);
    expect(gate.running).toBe(0);
    expect(await codeOf(gate.run(Date.now() + 1_000, async () => undefined))).toBe('ok');
  });

  it('a deadline already past is TRY_LATER; errors of the work pass through unchanged', async () => {
    const gate = new Admission({ name: 'test', concurrency: 1, queue: 0, retryAfterSeconds: 1 });
    expect(await codeOf(gate.run(Date.now() - 1, async () => undefined))).toBe('TRY_LATER');
    const boom = new DomainError('INSUFFICIENT_STOCK', 'none left');
    await expect(gate.run(Date.now() + 1_000, async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(gate.running).toBe(0);
  });

  it('hints the time the work ahead takes at the recent rate, within the configured floor and 10 s', async () => {
    const gate = new Admission({ name: 'test', concurrency: 1, queue: 2, retryAfterSeconds: 1 });
    // Work that takes 600 ms each: two finish, 600 ms apart (about 1.7 per second over the time they span).
    for (let i = 0; i < 2; i += 1) await gate.run(Date.now() + 5_000, () => sleep(600));
    const w = gatedWork();
    const busy = Array.from({ length: 3 }, () => gate.run(Date.now() + 10_000, w.work));
    await sleep(20);
    const refused = await gate.run(Date.now() + 10_000, async () => undefined).catch((e: DomainError) => e);
    // 3 in the gate at about 1.6/s: 2 s.
    expect(refused).toMatchObject({ code: 'TRY_LATER', details: { retryAfterSeconds: 2 } });
    for (let i = 0; i < 3; i += 1) {
      w.releaseAll();
      await sleep(20);
    }
    await Promise.all(busy);
    // Nothing waiting: the configured floor.
    expect(gate.retryAfterSeconds()).toBe(1);
  });
});
