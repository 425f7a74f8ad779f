/**
 * Liveness and readiness. Liveness fails when the event loop has stalled past
 * a limit (the process is wedged and should be restarted); readiness fails
 * while shutting down or while a dependency check (the database) fails, so a
 * load balancer stops sending work without the process being killed.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class HealthState {
  draining = false;
  private readonly loop: IntervalHistogram;
  private lastTick = Date.now();
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly checks: Array<() => Promise<boolean>> = [],
    private readonly stallLimitMs = 5_000,
  ) {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    this.ticker = setInterval(() => {
      this.lastTick = Date.now();
    }, 500);
    this.ticker.unref();
  }

  /** Alive unless the event loop has not ticked for `stallLimitMs`. */
  live(): { ok: boolean; eventLoopDelayMs: number } {
    const sinceTick = Date.now() - this.lastTick;
    return { ok: sinceTick < this.stallLimitMs, eventLoopDelayMs: Math.round(this.loop.mean / 1e6) };
  }

  /** Ready when not draining and every dependency check passes. */
  async ready(): Promise<{ ok: boolean; reason?: string }> {
    if (this.draining) return { ok: false, reason: 'draining' };
    const results = await Promise.all(this.checks.map((c) => c().catch(() => false)));
    return results.every(Boolean) ? { ok: true } : { ok: false, reason: 'dependency unavailable' };
  }

  close(): void {
    clearInterval(this.ticker);
    this.loop.disable();
  }
}
