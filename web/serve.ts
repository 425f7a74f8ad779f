/**
 * A tiny static server for the production build, with `/graphql` (HTTP and
 * the graphql-ws WebSocket upgrade) proxied to the router, so the page talks
 * to its own origin exactly as under `vite dev`. The browser tests use it;
 * `npm run serve -w web` runs it by hand (after `npm run build -w web`).
 * The container image has its own equivalent (infra/docker/web-server.mjs).
 *
 * Settings when run directly: WEB_DIST_DIR (web/dist), ROUTER_URL
 * (http://localhost:4000), WEB_PORT (8080; `npm start` runs it on 5173),
 * HOST (127.0.0.1), KEEP_ALIVE_TIMEOUT_MS and HEADERS_TIMEOUT_MS (65000 and
 * +5000, as every server here: docs/OPERATIONS.md). `/readyz` answers 200 once it serves.
 * `/local-token` (LOCAL-ONLY sign-in, local-token.ts) mints tokens only with
 * LOCAL_SIGN_IN=true and JWT_SECRET (`npm start` sets both), never with
 * NODE_ENV=production, or when a caller passes `localSignInSecret` in code
 * (the tests); everywhere else it answers 404.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, httpServerShape, loadConfig, parseConfig, serverTimeouts, type HttpServerSettings } from '@rental/config';
import { LOCAL_TOKEN_PATH, localSignInFromEnv, localSignInOff, localTokenHandler, type LocalSignIn } from './local-token.ts';

export interface WebServerOptions {
  distDir: string;
  /** The router's origin, e.g. http://127.0.0.1:4000 (a path is ignored). */
  routerUrl: string;
  port?: number;
  host?: string;
  /** LOCAL-ONLY: mint tokens on /local-token with this JWT secret (run directly: from `localSignInFromEnv`). Unset: 404 there. */
  localSignInSecret?: string;
  /** KEEP_ALIVE_TIMEOUT_MS, HEADERS_TIMEOUT_MS. Unset: read from the process environment (defaults 65000 / +5000). */
  httpTimeouts?: HttpServerSettings;
}

export interface RunningWebServer {
  url: string;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export async function startWebServer(opts: WebServerOptions): Promise<RunningWebServer> {
  const root = path.resolve(opts.distDir);
  if (!fs.existsSync(path.join(root, 'index.html'))) throw new Error(`${root}/index.html not found: run npm run build -w web first`);
  const router = new URL(opts.routerUrl);
  const mint = opts.localSignInSecret ? localTokenHandler(opts.localSignInSecret) : undefined;

  function serveStatic(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = path.join(root, path.normalize(urlPath));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      // Client-side routes get the app; a missing asset is a 404.
      if (path.extname(urlPath)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        return;
      }
      file = path.join(root, 'index.html');
    }
    const immutable = file.includes(`${path.sep}assets${path.sep}`);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  }

  function proxyHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    const upstream = http.request(
      { host: router.hostname, port: router.port || 80, method: req.method, path: req.url, headers: { ...req.headers, host: router.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'The router cannot be reached', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
      } else res.destroy();
    });
    req.pipe(upstream);
  }

  const sockets = new Set<net.Socket>();
  const server = http.createServer(serverTimeouts(opts.httpTimeouts ?? parseConfig(httpServerShape)), (req, res) => {
    const p = (req.url ?? '/').split('?')[0]!;
    if (p === '/graphql' || p.startsWith('/graphql/')) return proxyHttp(req, res);
    // Readiness for `npm start`'s supervisor: the build is there to serve.
    if (p === '/readyz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (p === LOCAL_TOKEN_PATH) {
      // Not an app route: without a secret there is no local sign-in here (404, so the page does not offer it).
      if (!mint) return localSignInOff(req, res, () => serveStatic(req, res));
      return void mint(req, res, () => serveStatic(req, res)).catch(() => res.writeHead(500).end());
    }
    serveStatic(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // WebSocket: replay the upgrade request to the router and splice the two sockets.
  server.on('upgrade', (req, client: net.Socket, head: Buffer) => {
    if (!(req.url ?? '').startsWith('/graphql')) return client.destroy();
    const up = net.connect(Number(router.port || 80), router.hostname, () => {
      const headers = { ...req.headers, host: router.host };
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined) raw += `${k}: ${one}\r\n`;
      up.write(`${raw}\r\n`);
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    const close = () => {
      up.destroy();
      client.destroy();
    };
    up.on('error', close);
    client.on('error', close);
    up.on('close', () => client.destroy());
    client.on('close', () => up.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  let local: LocalSignIn;
  try {
    local = await localSignInFromEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  if (!local.on && local.reason) console.warn(`web: ${local.reason}`);
  const web = await startWebServer({
    distDir: process.env.WEB_DIST_DIR ?? path.join(here, 'dist'),
    routerUrl: process.env.ROUTER_URL ?? 'http://localhost:4000',
    port: Number(process.env.WEB_PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
    // A bad value stops here with a message naming the variable.
    httpTimeouts: loadConfig(httpServerShape),
    ...(local.on ? { localSignInSecret: local.secret } : {}),
  });
  console.log(`web: ${web.url} (proxying /graphql to ${process.env.ROUTER_URL ?? 'http://localhost:4000'})`);
  if (local.on) console.log(`web: LOCAL-ONLY sign-in on ${LOCAL_TOKEN_PATH} (LOCAL_SIGN_IN=true): anyone reaching this port can sign in as anyone`);
  const stop = () => void web.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
