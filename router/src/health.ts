/**
 * Liveness and readiness of the router. Liveness fails when the event loop
 * has not ticked for `stallLimitMs` (the process is wedged: restart it).
 * Readiness fails until the gateway has loaded a supergraph and from the
 * moment shutdown starts, so load balancers stop sending work first.
 */
import { EventLoopWatch } from '@rental/observability';

/** The router's probes' answers (see the module comment). */
export class RouterHealth {
  loaded = false;
  draining = false;
  private readonly loop: EventLoopWatch;

  constructor(stallLimitMs = 5_000) {
    this.loop = new EventLoopWatch(stallLimitMs);
  }

  live(): { ok: boolean; eventLoopDelayMs: number } {
    const { stalled, eventLoopDelayMs } = this.loop.state();
    return { ok: !stalled, eventLoopDelayMs };
  }

  ready(): { ok: boolean; reason?: string } {
    if (this.draining) return { ok: false, reason: 'draining' };
    if (!this.loaded) return { ok: false, reason: 'supergraph not loaded' };
    return { ok: true };
  }

  close(): void {
    this.loop.close();
  }
}
