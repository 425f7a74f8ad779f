/**
 * Shared replay reads: subscribers starting together share one read, but
 * never one that began before they were listening (it could miss a change
 * they did not hear either); at most one read runs and one waits.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { ViewDoc, ViewSnapshot } from '../data/view-data.js';
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
    expect((await a).doc).toBe((await b).doc);
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
    expect((await first).doc?.version).toBe(3);
    await tick();
    expect(pending).toHaveLength(2);
    pending[1]!.resolve(doc(4));
    expect((await second).doc?.version).toBe(4);
    expect((await third).doc).toBe((await second).doc);
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
    expect((await next).doc?.version).toBe(5);
  });

  it('a read begun before the stream listened serves it when the feed vouches for everything since; it gets those messages too', async () => {
    const { src, pending } = source();
    const reads = new ChangeLogReads(src);
    const first = reads.read('r1', 0);
    await tick();
    const heardMessage = { reservationId: 'r1', version: 4 } as ViewSnapshot;
    const since: number[] = [];
    const vouching = (t: number) => (since.push(t), [heardMessage]);
    const late = reads.read('r1', performance.now(), vouching);
    pending[0]!.resolve(doc(3));
    expect(await late).toEqual({ doc: doc(3), heard: [heardMessage] });
    expect(await first).toEqual({ doc: doc(3), heard: [] });
    expect(pending).toHaveLength(1);
    // Finished reads serve too, while the feed vouches; when it cannot, a new read runs.
    expect(await reads.read('r1', performance.now(), vouching)).toEqual({ doc: doc(3), heard: [heardMessage] });
    expect(since).toHaveLength(2);
    const fresh = reads.read('r1', performance.now(), () => undefined);
    expect(pending).toHaveLength(2);
    pending[1]!.resolve(doc(5));
    expect((await fresh).doc?.version).toBe(5);
  });
});
