/**
 * Liveness and readiness of the router. Liveness fails when the event loop
 * has not ticked for `stallLimitMs` (the process is wedged: restart it).
 * Readiness fails until the gateway has loaded a supergraph and from the
 * moment shutdown starts, so load balancers stop sending work first.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class RouterHealth {
  loaded = false;
  draining = false;
  private readonly loop: IntervalHistogram;
  private lastTick = Date.now();
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly stallLimitMs = 5_000) {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    this.ticker = setInterval(() => {
      this.lastTick = Date.now();
    }, 500);
    this.ticker.unref();
  }

  live(): { ok: boolean; eventLoopDelayMs: number } {
    const sinceTick = Date.now() - this.lastTick;
    return { ok: sinceTick < this.stallLimitMs, eventLoopDelayMs: Math.round(this.loop.mean / 1e6) };
  }

  ready(): { ok: boolean; reason?: string } {
    if (this.draining) return { ok: false, reason: 'draining' };
    if (!this.loaded) return { ok: false, reason: 'supergraph not loaded' };
    return { ok: true };
  }

  close(): void {
    clearInterval(this.ticker);
    this.loop.disable();
  }
}
