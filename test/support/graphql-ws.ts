/**
 * A graphql-ws client for end-to-end tests: the real `graphql-ws` client
 * (`createClient`, subprotocol `graphql-transport-ws`) over `ws` (Node 20 has
 * no global WebSocket), connected eagerly, never reconnecting by itself — a
 * test decides when and how to reconnect (e.g. with `sinceVersion`), as the
 * web client does.
 *
 * ```ts
 * const ws = await connectWs(stack.url, token);            // resolves on connection_ack
 * const feed = ws.subscribe<{ reservationStatus: … }>(QUERY, { id });
 * const [first] = await feed.waitFor(1, 5_000);             // { at, data, errors }
 * const { code } = await ws.closed;                         // e.g. 1012 when the router stops
 * await ws.dispose();
 * ```
 *
 * Every `next` is recorded with `at` = `performance.now()` when it arrived,
 * for latency measurements. `rawSocket` opens a bare socket speaking the
 * protocol by hand (for malformed messages).
 */
import { performance } from 'node:perf_hooks';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export interface WsClose {
  code: number;
  reason: string;
}

/** One `next` of a subscription. */
export interface Received<T> {
  /** `performance.now()` when it arrived. */
  at: number;
  data?: T | null;
  errors?: FormattedExecutionResult['errors'];
}

export interface Feed<T> {
  /** Every `next`, in arrival order. */
  readonly received: Array<Received<T>>;
  /** Set when the server ended the subscription (`complete`). */
  readonly completed: boolean;
  /** Set when it ended with an error: the `error` message's errors, or the close event when the socket closed. */
  readonly error: unknown;
  /** Resolves when the subscription ends (completed or errored). */
  readonly ended: Promise<void>;
  /** Resolves with the first `count` messages once that many have arrived; rejects after `timeoutMs`, or when it ends short. */
  waitFor(count: number, timeoutMs: number): Promise<Array<Received<T>>>;
  /** Sends `complete` (stops the subscription). */
  unsubscribe(): void;
}

export interface WsClient {
  client: Client;
  /** Resolves when the socket closes (whoever closed it). */
  closed: Promise<WsClose>;
  /** The close, once it happened. */
  readonly closeEvent: WsClose | undefined;
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Feed<T>;
  /** Closes the socket (1000) and waits for it. */
  dispose(): Promise<void>;
}

export function wsUrlOf(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

function closeOf(event: unknown): WsClose {
  const e = event as { code?: number; reason?: unknown };
  return { code: typeof e?.code === 'number' ? e.code : -1, reason: typeof e?.reason === 'string' ? e.reason : String(event) };
}

/**
 * Connects (graphql-ws `connection_init` with `authorization: "Bearer <token>"`
 * when a token is given) and resolves once the server acknowledged; rejects
 * with the close code when it refuses or cannot be reached.
 */
export function connectWs(httpOrWsUrl: string, token?: string, opts: { connectTimeoutMs?: number } = {}): Promise<WsClient> {
  const url = wsUrlOf(httpOrWsUrl);
  let closeEvent: WsClose | undefined;
  let onClosed!: (c: WsClose) => void;
  const closed = new Promise<WsClose>((resolve) => (onClosed = resolve));
  return new Promise<WsClient>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      void client.dispose();
      reject(new Error(`graphql-ws: no connection_ack from ${url} within ${opts.connectTimeoutMs ?? 5_000} ms`));
    }, opts.connectTimeoutMs ?? 5_000);
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      onNonLazyError: () => undefined,
      on: {
        connected: () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(ws);
        },
        closed: (event) => {
          closeEvent ??= closeOf(event);
          onClosed(closeEvent);
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(Object.assign(new Error(`graphql-ws: ${url} closed before connection_ack: ${closeEvent.code} ${closeEvent.reason}`), closeEvent));
        },
      },
    });
    const ws: WsClient = {
      client,
      closed,
      get closeEvent() {
        return closeEvent;
      },
      subscribe<T>(query: string, variables?: Record<string, unknown>): Feed<T> {
        const received: Array<Received<T>> = [];
        const waiters = new Set<() => void>();
        const wake = () => {
          for (const w of [...waiters]) w();
        };
        let completed = false;
        let error: unknown;
        let onEnd!: () => void;
        const ended = new Promise<void>((r) => (onEnd = r));
        const unsubscribe = client.subscribe<T>(
          { query, variables },
          {
            next: (result) => {
              received.push({ at: performance.now(), data: result.data, errors: result.errors });
              wake();
            },
            error: (err) => {
              error = err;
              onEnd();
              wake();
            },
            complete: () => {
              completed = true;
              onEnd();
              wake();
            },
          },
        );
        const feed: Feed<T> = {
          received,
          get completed() {
            return completed;
          },
          get error() {
            return error;
          },
          ended,
          waitFor(count, timeoutMs) {
            return new Promise((resolve, reject) => {
              const check = () => {
                if (received.length >= count) {
                  done();
                  resolve(received.slice(0, count));
                } else if (completed || error !== undefined) {
                  done();
                  reject(new Error(`subscription ended after ${received.length} of ${count} messages: ${JSON.stringify({ completed, error, received })}`));
                }
              };
              const timer = setTimeout(() => {
                done();
                reject(new Error(`${received.length} of ${count} messages within ${timeoutMs} ms: ${JSON.stringify(received)}`));
              }, timeoutMs);
              const done = () => {
                clearTimeout(timer);
                waiters.delete(check);
              };
              waiters.add(check);
              check();
            });
          },
          unsubscribe,
        };
        return feed;
      },
      async dispose() {
        await client.dispose();
        if (!closeEvent) await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
      },
    };
  });
}

/** Tries `connectWs` until it succeeds (e.g. while a router restarts), every `stepMs`, up to `timeoutMs`. */
export async function connectWsWithRetry(url: string, token: string | undefined, timeoutMs: number, stepMs = 100): Promise<{ ws: WsClient; attempts: number }> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      return { ws: await connectWs(url, token, { connectTimeoutMs: 2_000 }), attempts };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no graphql-ws connection to ${url} within ${timeoutMs} ms (${attempts} attempts): ${String(err)}`);
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** A bare socket speaking graphql-transport-ws by hand: for protocol violations. */
export interface RawSocket {
  socket: WebSocket;
  /** Every message received (parsed). */
  messages: Array<Record<string, unknown>>;
  closed: Promise<WsClose>;
  /** Resolves after `connection_ack`. */
  acked: Promise<void>;
  send(data: string): void;
}

export function rawSocket(httpOrWsUrl: string, token?: string): RawSocket {
  const socket = new WebSocket(wsUrlOf(httpOrWsUrl), 'graphql-transport-ws');
  const messages: Array<Record<string, unknown>> = [];
  const closed = new Promise<WsClose>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const acked = new Promise<void>((resolve, reject) => {
    socket.on('message', (m) => {
      const msg = JSON.parse((m as Buffer).toString()) as Record<string, unknown>;
      messages.push(msg);
      if (msg.type === 'connection_ack') resolve();
    });
    void closed.then((c) => reject(new Error(`closed before connection_ack: ${c.code} ${c.reason}`)));
  });
  acked.catch(() => undefined);
  socket.on('error', () => undefined);
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
  return { socket, messages, closed, acked, send: (data) => socket.send(data) };
}
