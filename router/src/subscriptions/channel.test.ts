/** The Channel's bound: a slow consumer never makes it hold more than its high-water mark. */
import { describe, expect, it } from 'vitest';
import { Channel } from './channel.js';

describe('Channel with a high-water mark', () => {
  it('holds at most highWaterMark values, calls onOverflow once, and still hands the held ones over in order', async () => {
    let overflows = 0;
    const ch = new Channel<number>(() => {}, { highWaterMark: 3, onOverflow: () => overflows++ });
    for (let i = 1; i <= 10; i++) ch.push(i);
    expect(ch.buffered).toBe(3);
    expect(overflows).toBe(1);
    expect([(await ch.next()).value, (await ch.next()).value, (await ch.next()).value]).toEqual([1, 2, 3]);
    expect(ch.buffered).toBe(0);
  });

  it('a consumer that keeps up never overflows', async () => {
    let overflows = 0;
    const ch = new Channel<number>(() => {}, { highWaterMark: 2, onOverflow: () => overflows++ });
    const got: number[] = [];
    for (let i = 1; i <= 50; i++) {
      const next = ch.next();
      ch.push(i);
      got.push((await next).value as number);
    }
    expect(got).toHaveLength(50);
    expect(overflows).toBe(0);
  });
});
