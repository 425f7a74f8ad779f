/**
 * The probes, outside `/graphql` and without CORS or authentication (they
 * are for the orchestrator and the load balancer, never for browsers):
 *
 * - `GET /healthz` (liveness): 200 `{ status: "ok", ok, eventLoopDelayMs }`,
 *   or 503 `"stalled"` when the event loop has not ticked for 5 s: restart
 *   the process.
 * - `GET /readyz` (readiness): 200 `{ status: "ready", ok }` once the
 *   supergraph is loaded, 503 `"not ready"` with a `reason` before that and
 *   from the moment shutdown starts (`draining`), so the load balancer
 *   stops sending work before the router stops taking it.
 *
 * The state behind them is ../health.ts.
 */
import express from 'express';
import type { RouterHealth } from '../health.js';

/** `/healthz` and `/readyz` over the router's health. */
export function healthRoutes(health: RouterHealth): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    const live = health.live();
    res.status(live.ok ? 200 : 503).json({ status: live.ok ? 'ok' : 'stalled', ...live });
  });
  router.get('/readyz', (_req, res) => {
    const ready = health.ready();
    res.status(ready.ok ? 200 : 503).json({ status: ready.ok ? 'ready' : 'not ready', ...ready });
  });
  return router;
}
