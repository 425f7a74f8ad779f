/**
 * The clients inside the system leave an idle socket before the server
 * closes it, over real sockets: the router's subgraph connections (after
 * SUBGRAPH_IDLE_TIMEOUT_MS, or 1 s before a shorter announced keep-alive)
 * and global fetch (undici, the reservations saga's client: 2 s before the
 * announced keep-alive). A busy socket is never cut by the idle timeout.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serverTimeouts } from '@rental/config';
import { SubgraphConnections } from './connections.js';

interface TestServer {
  url: string;
  /** Sockets accepted so far. */
  connections: number;
  /** ms from the end of the first response to the client's FIN on that socket. */
  clientFinAfter: Promise<number>;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server with our timeouts for `keepAliveMs`; `?ms=N` answers after N ms. */
async function server(keepAliveMs: number): Promise<TestServer> {
  let answered = 0;
  let resolveFin: (ms: number) => void = () => undefined;
  const clientFinAfter = new Promise<number>((r) => (resolveFin = r));
  const state = { url: '', connections: 0, clientFinAfter };
  const srv = http.createServer(serverTimeouts({ KEEP_ALIVE_TIMEOUT_MS: keepAliveMs }), (req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    req.resume();
    setTimeout(() => {
      res.end('{"ok":true}', () => (answered = Date.now()));
    }, ms);
  });
  srv.on('connection', (socket: Socket) => {
    state.connections += 1;
    // 'end' on the server's side: the client sent its FIN (it closed first).
    if (state.connections === 1) socket.once('end', () => resolveFin(Date.now() - answered));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
  cleanups.push(() => {
    srv.closeAllConnections();
    return new Promise((r) => srv.close(r));
  });
  return state;
}

function connections(idleMs: number): SubgraphConnections {
  const c = new SubgraphConnections(idleMs);
  cleanups.push(() => c.close());
  return c;
}

describe('router → subgraph connections', () => {
  it('close an idle socket after SUBGRAPH_IDLE_TIMEOUT_MS, long before the server (65 s) would', async () => {
    const s = await server(65_000);
    const res = await connections(1_000).fetcher(s.url, { method: 'POST', body: '{}' });
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
    await res.text();
    const after = await s.clientFinAfter;
    expect(after).toBeGreaterThanOrEqual(800);
    expect(after).toBeLessThan(2_500);
  });

  it('close it 1 s before a shorter announced keep-alive (timeout=3 → ~2 s), before the server closes it (~4 s)', async () => {
    const s = await server(3_000);
    await (await connections(60_000).fetcher(s.url, { method: 'POST', body: '{}' })).text();
    const after = await s.clientFinAfter;
    expect(after).toBeGreaterThanOrEqual(1_500);
    expect(after).toBeLessThan(3_000);
  });

  it('reuse a socket within the idle time, and never cut a busy one: a response slower than the idle timeout arrives', async () => {
    const s = await server(65_000);
    const c = connections(500);
    expect(await (await c.fetcher(s.url, { method: 'POST', body: '{}' })).text()).toBe('{"ok":true}');
    // undici's pool takes the socket back on the next turn of the event loop, not in the tick the body ended.
    await new Promise((r) => setImmediate(r));
    expect(await (await c.fetcher(`${s.url}?ms=1500`, { method: 'POST', body: '{}' })).text()).toBe('{"ok":true}');
    expect(s.connections).toBe(1);
  });
});

describe('global fetch (undici), as the reservations saga calls items and rentals', () => {
  it('closes an idle socket 2 s before the announced keep-alive (timeout=4 → ~2 s), before the server (~5 s)', async () => {
    const s = await server(4_000);
    const res = await fetch(s.url, { method: 'POST', body: '{}' });
    expect(res.headers.get('keep-alive')).toBe('timeout=4');
    await res.text();
    const after = await s.clientFinAfter;
    expect(after).toBeGreaterThanOrEqual(1_500);
    expect(after).toBeLessThan(3_000);
  });
});
