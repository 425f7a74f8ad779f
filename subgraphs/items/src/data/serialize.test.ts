import { describe, expect, it } from 'vitest';
import { KeyedSerializer } from './serialize.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedSerializer', () => {
  it('runs tasks of one key one at a time, in order', async () => {
    const s = new KeyedSerializer();
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        s.run('a', async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await tick(10 - i);
          order.push(i);
          running--;
        }),
      ),
    );
    expect(maxRunning).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.size).toBe(0);
  });

  it('runs different keys concurrently', async () => {
    const s = new KeyedSerializer();
    let running = 0;
    let maxRunning = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((k) =>
        s.run(k, async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await tick(20);
          running--;
        }),
      ),
    );
    expect(maxRunning).toBe(3);
  });

  it('a failing task rejects its caller only and does not block the next', async () => {
    const s = new KeyedSerializer();
    const failed = s.run('a', async () => {
      throw new Error('boom');
    });
    const next = s.run('a', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
    await tick(0);
    expect(s.size).toBe(0);
  });
});
