/**
 * Many messages sent on one socket in one turn leave in one write, in
 * order, and every send's callback fires.
 */
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { BatchingWebSocket, batchWritesPerTurn } from './write-batching.js';

/** Counts the TCP socket's writes to the kernel (Writable's `_write`/`_writev`, which net.Socket implements). */
function countWrites(socket: WebSocket): () => number {
  const tcp = (socket as unknown as { _socket: Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void } })._socket;
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = tcp[name].bind(tcp);
    tcp[name] = (...a: unknown[]) => {
      writes++;
      original(...a);
    };
  }
  return () => writes;
}

describe('batchWritesPerTurn', () => {
  let wss: WebSocketServer;
  let url: string;
  const received: string[][] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (socket) => {
      const got: string[] = [];
      received.push(got);
      socket.on('message', (m) => got.push((m as Buffer).toString()));
    });
    await new Promise((r) => wss.once('listening', r));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => wss.close(() => r())));

  async function open(socket: WebSocket): Promise<WebSocket> {
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return socket;
  }

  async function sendMany(socket: WebSocket, n: number): Promise<number> {
    const writes = countWrites(socket);
    const sent = Array.from({ length: n }, (_, i) => new Promise<void>((resolve, reject) => socket.send(`m${i}`, (err) => (err ? reject(err) : resolve()))));
    await Promise.all(sent);
    return writes();
  }

  it('sends 200 messages of one turn in one write, in order', async () => {
    const socket = await open(new BatchingWebSocket(url, undefined, { perMessageDeflate: false }));
    const index = received.length - 1;
    expect(await sendMany(socket, 200)).toBe(1);
    await expect.poll(() => received[index]?.length).toBe(200);
    expect(received[index]).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    // The next turn's messages go out too (the socket was uncorked).
    expect(await sendMany(socket, 3)).toBe(1);
    await expect.poll(() => received[index]?.length).toBe(203);
    socket.close();
  });

  it('without it, ws writes each message on its own', async () => {
    const socket = await open(new WebSocket(url, { perMessageDeflate: false }));
    expect(await sendMany(socket, 200)).toBeGreaterThan(100);
    socket.close();
  });

  it('batches a server-side socket too', async () => {
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = await open(new WebSocket(url, { perMessageDeflate: false }));
    const got: string[] = [];
    client.on('message', (m) => got.push((m as Buffer).toString()));
    const socket = await serverSide;
    batchWritesPerTurn(socket);
    expect(await sendMany(socket, 50)).toBe(1);
    await expect.poll(() => got.length).toBe(50);
    expect(got.at(-1)).toBe('m49');
    client.close();
  });
});
