/**
 * Waits for the event pipeline of a stack to go quiet: no job waiting,
 * active, delayed or prioritized in any consumer queue for `quietMs` in a
 * row. Benchmarks read their counters after it, so the asynchronous work a
 * request caused (store orders, customer views) is counted with it. Only
 * Redis is asked (queue counts), never the database being measured.
 */
import type { Stack } from './stack.js';

export async function settle(stack: Pick<Stack, 'bus'>, { quietMs = 750, timeoutMs = 120_000 } = {}): Promise<void> {
  const queues = stack.bus().allQueues();
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | undefined;
  for (;;) {
    const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')));
    const busy = counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
    const now = Date.now();
    if (busy === 0) {
      quietSince ??= now;
      if (now - quietSince >= quietMs) return;
    } else {
      quietSince = undefined;
    }
    if (now > deadline) {
      const where = queues.map((q, i) => `${q.name}: ${JSON.stringify(counts[i])}`).filter((_, i) => Object.values(counts[i]!).some((n) => n > 0));
      throw new Error(`the event pipeline still had ${busy} jobs after ${timeoutMs} ms (${where.join('; ')})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
