/**
 * Test support: an HTTP client that keeps one socket and reuses it however
 * long it sat idle, ignoring the server's `Keep-Alive: timeout` hint, the way
 * a load balancer or a browser does. Keep-alive tests use it to see the
 * server's own timeout at work: either the server closes the idle socket, or
 * the next request on it is answered. Not part of the runtime API
 * (`@rental/subgraph-server/testing`).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Node's agent, minus its reading of the server's hint (which would drop a socket the server will soon close). */
class HintIgnoringAgent extends http.Agent {
  override keepSocketAlive(socket: Duplex): boolean {
    (socket as Socket).setKeepAlive(true, 1_000);
    return true;
  }
}

/** One answer, and the socket it came on. */
export interface KeepAliveResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The request went out on a socket an earlier request had used. */
  reused: boolean;
  /** `Date.now()` when the response had been read whole (the socket is idle from then on). */
  endedAt: number;
  socket: Duplex;
}

/** A single-socket keep-alive client (see the module comment). */
export class KeepAliveClient {
  private readonly agent = new HintIgnoringAgent({ keepAlive: true, maxSockets: 1 });

  /** Sends one request on the kept socket (a new one when the server has closed it). */
  request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<KeepAliveResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reused: req.reusedSocket,
            endedAt: Date.now(),
            socket: req.socket as Duplex,
          }),
        );
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /**
   * Resolves with how long after `response` the server closed its socket
   * (the server's FIN: the socket's `end`); rejects when it was closed any
   * other way, or is still open after `withinMs`.
   */
  serverClose(response: KeepAliveResponse, withinMs: number): Promise<number> {
    const { socket, endedAt } = response;
    return new Promise((resolve, reject) => {
      if (socket.readableEnded) return resolve(0);
      const timer = setTimeout(() => reject(new Error(`the server kept the idle socket open for more than ${withinMs} ms`)), withinMs);
      socket.once('end', () => {
        clearTimeout(timer);
        resolve(Date.now() - endedAt);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error('the socket was closed without a FIN from the server'));
      });
    });
  }

  /** Closes the kept socket. */
  close(): void {
    this.agent.destroy();
  }
}
