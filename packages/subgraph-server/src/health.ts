/**
 * Liveness and readiness.
 *
 * - Readiness fails while shutting down, and at once while a dependency check
 *   (the database) fails, so a load balancer stops sending work without the
 *   process being killed.
 * - Liveness fails when the event loop has stalled past a limit, or when a
 *   dependency has been failing continuously for longer than
 *   `dependencyGraceMs` (`DB_LOSS_GRACE_MS`): a short database outage only
 *   takes the process out of rotation; a long one gets it restarted (a fresh
 *   process, fresh connection pools), which is what an orchestrator's
 *   liveness probe is for.
 *
 * The dependency checks run in the background (every `checkIntervalMs`) so
 * liveness knows since when a dependency is lost even between probes; each
 * check is bounded by `checkTimeoutMs` (a ping to a vanished server would
 * otherwise wait for the driver's server selection timeout).
 */
import { EventLoopWatch } from '@rental/observability';

export interface HealthOptions {
  /** Liveness fails when the event loop has not ticked for this long. Default 5000. */
  stallLimitMs?: number;
  /** Liveness fails when a dependency check has failed continuously for this long. Default 30000. */
  dependencyGraceMs?: number;
  /** How often dependency checks run in the background. Default 1000. */
  checkIntervalMs?: number;
  /** A check that has not answered by then counts as failed. Default 2000. */
  checkTimeoutMs?: number;
}

export class HealthState {
  draining = false;
  private readonly loop: EventLoopWatch;
  private readonly monitor: NodeJS.Timeout | undefined;
  /** Since when the dependency checks have been failing (undefined: passing). */
  private failingSince: number | undefined;
  private checking: Promise<boolean> | undefined;
  private readonly stallLimitMs: number;
  private readonly graceMs: number;
  private readonly checkTimeoutMs: number;

  constructor(
    private readonly checks: Array<() => Promise<boolean>> = [],
    options: HealthOptions | number = {},
  ) {
    const opts = typeof options === 'number' ? { stallLimitMs: options } : options;
    this.stallLimitMs = opts.stallLimitMs ?? 5_000;
    this.graceMs = opts.dependencyGraceMs ?? 30_000;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 2_000;
    this.loop = new EventLoopWatch(this.stallLimitMs);
    if (checks.length > 0) {
      this.monitor = setInterval(() => void this.runChecks(), opts.checkIntervalMs ?? 1_000);
      this.monitor.unref();
    }
  }

  /** Runs every dependency check once (shared by concurrent callers); records since when they fail. */
  private runChecks(): Promise<boolean> {
    this.checking ??= (async () => {
      const bounded = (c: () => Promise<boolean>) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), this.checkTimeoutMs);
          c().then(
            (ok) => (clearTimeout(timer), resolve(ok)),
            () => (clearTimeout(timer), resolve(false)),
          );
        });
      const ok = (await Promise.all(this.checks.map(bounded))).every(Boolean);
      if (ok) this.failingSince = undefined;
      else this.failingSince ??= Date.now();
      return ok;
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  /** Alive unless the event loop has stalled, or a dependency has been lost for longer than the grace period. */
  live(): { ok: boolean; eventLoopDelayMs: number; reason?: string; dependencyDownMs?: number } {
    const { stalled, eventLoopDelayMs } = this.loop.state();
    if (stalled) return { ok: false, eventLoopDelayMs, reason: 'event loop stalled' };
    if (this.failingSince !== undefined) {
      const dependencyDownMs = Date.now() - this.failingSince;
      if (dependencyDownMs > this.graceMs) {
        return { ok: false, eventLoopDelayMs, reason: 'dependency lost past the grace period', dependencyDownMs };
      }
      return { ok: true, eventLoopDelayMs, dependencyDownMs };
    }
    return { ok: true, eventLoopDelayMs };
  }

  /** Ready when not draining and every dependency check passes (checked now). */
  async ready(): Promise<{ ok: boolean; reason?: string }> {
    if (this.draining) return { ok: false, reason: 'draining' };
    if (this.checks.length === 0) return { ok: true };
    return (await this.runChecks()) ? { ok: true } : { ok: false, reason: 'dependency unavailable' };
  }

  close(): void {
    clearInterval(this.monitor);
    this.loop.close();
  }
}
