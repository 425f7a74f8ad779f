/**
 * Is this process's event loop still turning? The liveness probe of every
 * process (router, subgraphs, workers) asks it: a loop that has not ticked
 * for `stallLimitMs` means the process is wedged (a tight loop, a blocking
 * call) and should be restarted; the mean delay is reported beside it.
 *
 * A 500 ms unref'd interval records its last tick (it never keeps the process
 * alive); `monitorEventLoopDelay` samples the delay every 20 ms.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Watches the event loop for the liveness probe (see the module comment). */
export class EventLoopWatch {
  private readonly delay: IntervalHistogram;
  private lastTick = Date.now();
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly stallLimitMs = 5_000) {
    this.delay = monitorEventLoopDelay({ resolution: 20 });
    this.delay.enable();
    this.ticker = setInterval(() => {
      this.lastTick = Date.now();
    }, 500);
    this.ticker.unref();
  }

  /** Stalled: no tick for `stallLimitMs`. `eventLoopDelayMs`: the mean delay sampled so far. */
  state(): { stalled: boolean; eventLoopDelayMs: number } {
    return { stalled: Date.now() - this.lastTick >= this.stallLimitMs, eventLoopDelayMs: Math.round(this.delay.mean / 1e6) };
  }

  close(): void {
    clearInterval(this.ticker);
    this.delay.disable();
  }
}
