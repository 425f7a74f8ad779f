/**
 * The HTTP side of a worker process (`WORKER_HEALTH_PORT`): `/healthz`
 * (liveness: event loop, dependencies lost past the grace period), `/readyz`
 * (the consumer runs and its dependencies answer; fails from the moment
 * shutdown starts) and `/metrics` (the shared registry: queue depth, event
 * lag, handled events, Node defaults). Workers serve no GraphQL; this lets
 * an orchestrator probe them like the HTTP services and Prometheus scrape them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpServerShape, parseConfig, serverTimeouts, type HttpServerSettings } from '@rental/config';
import { metrics, type Logger } from '@rental/observability';
import { HealthState } from './health.js';

export interface WorkerHealthOptions {
  /** Service name for logs (`stores-worker`, …). */
  name: string;
  host: string;
  /** 0: any free port. */
  port: number;
  logger: Logger;
  /** Dependency and consumer checks for `/readyz` (and liveness after the grace period). */
  readinessChecks?: Array<() => Promise<boolean>>;
  /** `DB_LOSS_GRACE_MS`. */
  dependencyGraceMs?: number;
  /**
   * `KEEP_ALIVE_TIMEOUT_MS` and `HEADERS_TIMEOUT_MS` (a scraper keeps its
   * connection between scrapes). Unset: read from the process environment.
   */
  httpTimeouts?: HttpServerSettings;
}

export interface WorkerHealthServer {
  /** `http://host:port` */
  url: string;
  port: number;
  health: HealthState;
  /** Readiness fails from now on (call first when stopping). */
  drain(): void;
  close(): Promise<void>;
}

/** The settings of a worker's config its health server reads (every worker's config has them). */
export interface WorkerHealthSettings extends HttpServerSettings {
  HOST: string;
  /** Unset: no health server. */
  WORKER_HEALTH_PORT?: number | undefined;
  DB_LOSS_GRACE_MS: number;
}

/**
 * A worker's health server as its config asks for it: none without
 * `WORKER_HEALTH_PORT`, else on `HOST:WORKER_HEALTH_PORT`, ready while every
 * check passes (a consumer worker: its database answers and its BullMQ
 * worker runs), failing liveness after `DB_LOSS_GRACE_MS` of failed checks.
 */
export function startWorkerHealthFromConfig(
  name: string,
  config: WorkerHealthSettings,
  logger: Logger,
  readinessChecks: Array<() => Promise<boolean>>,
): Promise<WorkerHealthServer | undefined> {
  if (config.WORKER_HEALTH_PORT === undefined) return Promise.resolve(undefined);
  return startWorkerHealth({
    httpTimeouts: config,
    name,
    host: config.HOST,
    port: config.WORKER_HEALTH_PORT,
    logger,
    dependencyGraceMs: config.DB_LOSS_GRACE_MS,
    readinessChecks,
  });
}

export async function startWorkerHealth(opts: WorkerHealthOptions): Promise<WorkerHealthServer> {
  const health = new HealthState(opts.readinessChecks ?? [], { dependencyGraceMs: opts.dependencyGraceMs });
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = http.createServer(serverTimeouts(opts.httpTimeouts ?? parseConfig(httpServerShape)), (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' });
    if (path === '/healthz') {
      const live = health.live();
      return json(res, live.ok ? 200 : 503, { status: live.ok ? 'ok' : 'unhealthy', ...live });
    }
    if (path === '/readyz') {
      void health.ready().then((ready) => json(res, ready.ok ? 200 : 503, { status: ready.ok ? 'ready' : 'not ready', ...ready }));
      return;
    }
    if (path === '/metrics') {
      void metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: unknown) => {
          opts.logger.error({ err }, 'metrics collection failed');
          res.writeHead(500).end();
        },
      );
      return;
    }
    json(res, 404, { error: 'not found: /healthz, /readyz, /metrics' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host}:${port}`;
  opts.logger.info({ url }, `${opts.name}: health and metrics on ${url}`);
  return {
    url,
    port,
    health,
    drain() {
      health.draining = true;
    },
    async close() {
      health.draining = true;
      health.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
