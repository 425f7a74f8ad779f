// The web image's server: plain Node, no dependencies.
//
// - Serves the vite build in STATIC_DIR (default ./public); unknown paths
//   without a file extension get index.html (client-side routes).
// - GET /healthz and /readyz answer 200 {"status":"ok"} (readiness fails once
//   SIGTERM arrived, while open requests finish).
// - /graphql, HTTP and the graphql-ws WebSocket upgrade, is proxied to
//   ROUTER_URL (e.g. http://router:4000), so the page talks to its own origin
//   as it does under `vite dev`. Without ROUTER_URL, /graphql is 502: put the
//   router behind the same host another way (the Kubernetes Ingress does).
//
// Settings: WEB_PORT (8080), HOST (0.0.0.0), STATIC_DIR, ROUTER_URL.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const port = Number(process.env.WEB_PORT || 8080);
const host = process.env.HOST || '0.0.0.0';
const root = path.resolve(process.env.STATIC_DIR || 'public');
const router = process.env.ROUTER_URL ? new URL(process.env.ROUTER_URL) : undefined;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

let draining = false;

function log(msg, extra = {}) {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), service: 'web', ...extra, msg })}\n`);
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function isGraphql(url) {
  return url === '/graphql' || url.startsWith('/graphql?') || url.startsWith('/graphql/');
}

function proxyHttp(req, res) {
  if (!router) return json(res, 502, { error: 'ROUTER_URL is not set' });
  const upstream = http.request(
    {
      host: router.hostname,
      port: router.port || 80,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: router.host, 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-proto': 'http' },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) json(res, 502, { error: 'router unreachable' });
    else res.destroy();
  });
  req.pipe(upstream);
}

function proxyUpgrade(req, socket, head) {
  if (!router || !isGraphql(req.url ?? '')) return socket.destroy();
  const upstream = net.connect(Number(router.port || 80), router.hostname, () => {
    const headers = { ...req.headers, host: router.host };
    let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) for (const one of [v].flat()) raw += `${k}: ${one}\r\n`;
    upstream.write(`${raw}\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', close);
  socket.on('error', close);
}

function serveStatic(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  let file = path.join(root, path.normalize(pathname));
  if (file !== root && !file.startsWith(root + path.sep)) return json(res, 404, { error: 'not found' });
  let stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory()) {
    file = path.join(file, 'index.html');
    stat = fs.statSync(file, { throwIfNoEntry: false });
  }
  if (!stat?.isFile()) {
    // A client-side route (no extension) gets the app; a missing asset is 404.
    if (path.extname(pathname)) return json(res, 404, { error: 'not found' });
    file = path.join(root, 'index.html');
    stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return json(res, 404, { error: 'not found' });
  }
  const hashed = /\/assets\//.test(file);
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': stat.size,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') return res.end();
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/healthz') return json(res, 200, { status: 'ok' });
  if (url === '/readyz') return draining ? json(res, 503, { status: 'draining' }) : json(res, 200, { status: 'ready' });
  if (isGraphql(url)) return proxyHttp(req, res);
  return serveStatic(req, res);
});
server.on('upgrade', proxyUpgrade);

server.listen(port, host, () => {
  const addr = server.address();
  log('web listening', { url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/`, root, router: router?.href ?? null });
});

function shutdown(signal) {
  if (draining) return;
  draining = true;
  log(`${signal} received, draining`);
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
