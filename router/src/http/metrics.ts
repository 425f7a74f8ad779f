/**
 * `GET /metrics`: the process's Prometheus registry (../metrics.ts and the
 * shared one of @rental/observability: operations, errors, subgraph fetches,
 * subscriptions, Node defaults) in the text exposition format, for the
 * scraper: outside `/graphql`, without CORS or authentication, like the
 * probes.
 */
import express from 'express';
import { metrics } from '../metrics.js';

/** The `/metrics` route. */
export function metricsRoute(): express.Router {
  const router = express.Router();
  router.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.contentType);
    res.send(await metrics.metrics());
  });
  return router;
}
