/**
 * The router's `node:http` server and the Express app on it. One server
 * carries HTTP and, on the same port and path, the graphql-ws WebSockets
 * (subscriptions/server.ts listens for its `upgrade` events).
 *
 * - No ETag: Express would hash every response body (SHA-1) for one, and
 *   GraphQL POST answers are never revalidated.
 * - No `x-powered-by`.
 * - `trust proxy` off: the client address is the socket's (anonymous
 *   callers' rate-limit key), never a forwarded header a caller can forge.
 * - Node's timeouts from KEEP_ALIVE_TIMEOUT_MS / HEADERS_TIMEOUT_MS
 *   (@rental/config `serverTimeouts`): keep-alive above the load balancer's
 *   idle timeout, headers above that.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { serverTimeouts } from '@rental/config';
import type { RouterConfig } from '../config.js';

/** The Express app (routes are added by the router) and the server it runs on, not listening yet. */
export function createHttpServer(config: RouterConfig): { app: express.Express; httpServer: http.Server } {
  const app = express();
  app.set('etag', false);
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  return { app, httpServer: http.createServer(serverTimeouts(config), app) };
}

/** Listens on `host:port` (`0`: any free port) and resolves with the port, or rejects (e.g. EADDRINUSE). */
export async function listen(httpServer: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  return (httpServer.address() as AddressInfo).port;
}
