/**
 * Shared replay reads: subscribers starting together share one read, but
 * never one that began before they were listening (it could miss a change
 * they did not hear either); at most one read runs and one waits.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { ViewDoc } from '../data/view-data.js';
import { ChangeLogReads, type ViewSource } from './change-log-reads.js';

/** A source whose reads the test answers one by one. */
function source() {
  const pending: Array<{ id: string; resolve(doc: ViewDoc | null): void; reject(err: Error): void }> = [];
  const src: ViewSource = {
    get: (id) => new Promise((resolve, reject) => pending.push({ id, resolve, reject })),
  };
  return { src, pending };
}
const doc = (version: number) => ({ _id: 'r1', version }) as unknown as ViewDoc;
const tick = () => new Promise((r) => setTimeout(r, 1));

describe('ChangeLogReads', () => {
  it('streams that were listening before a read began share it', async () => {
    const { src, pending } = source();
    const reads = new ChangeLogReads(src);
    const listening = performance.now();
    await tick();
    const a = reads.read('r1', listening);
    const b = reads.read('r1', listening);
    expect(pending).toHaveLength(1);
    pending[0]!.resolve(doc(3));
    expect(await a).toBe(await b);
  });

  it('a stream that started listening after a read began waits for the next read, shared by all who ask meanwhile', async () => {
    const { src, pending } = source();
    const reads = new ChangeLogReads(src);
    const first = reads.read('r1', 0);
    await tick();
    const late = performance.now();
    const second = reads.read('r1', late);
    const third = reads.read('r1', late);
    expect(pending).toHaveLength(1);
    pending[0]!.resolve(doc(3));
    expect((await first)?.version).toBe(3);
    await tick();
    expect(pending).toHaveLength(2);
    pending[1]!.resolve(doc(4));
    expect((await second)?.version).toBe(4);
    expect(await third).toBe(await second);
  });

  it('a failed read fails those who shared it; the next one still runs', async () => {
    const { src, pending } = source();
    const reads = new ChangeLogReads(src);
    const first = reads.read('r1', 0);
    await tick();
    const next = reads.read('r1', performance.now());
    pending[0]!.reject(new Error('database unavailable'));
    await expect(first).rejects.toThrow('database unavailable');
    await tick();
    pending[1]!.resolve(doc(5));
    expect((await next)?.version).toBe(5);
  });
});
