/** A blocked event loop shows as stalled to the liveness probe, and recovers once it turns again. */
import { describe, expect, it } from 'vitest';
import { EventLoopWatch } from './event-loop.js';

describe('EventLoopWatch', () => {
  it('is stalled after the loop was blocked longer than the limit, and not once it ticks again', async () => {
    // The limit is well above the 500 ms tick, so a busy machine's timer jitter is not a stall.
    const watch = new EventLoopWatch(1_000);
    try {
      await new Promise((r) => setTimeout(r, 700));
      expect(watch.state().stalled).toBe(false);
      const until = Date.now() + 1_600;
      while (Date.now() < until) {
        // Blocks the event loop, as a wedged process would.
      }
      const blocked = watch.state();
      expect(blocked.stalled).toBe(true);
      await new Promise((r) => setTimeout(r, 700));
      expect(watch.state().stalled).toBe(false);
      expect(watch.state().eventLoopDelayMs).toBeGreaterThan(0);
    } finally {
      watch.close();
    }
  });
});
