/**
 * Redis for local runs and tests: `REDIS_URL` when set (kind `external`),
 * else a `redis-server` we start on a free port with append-only persistence
 * under `dataDir` (kind `redis-server`). When redis-server is missing and we
 * are root, it is installed from Debian's `redis-server` package first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { ServerProcess, runCommand, sleep, which } from './proc.js';

/** A running (or external) Redis server. */
export interface RedisServer {
  url: string;
  kind: 'external' | 'redis-server';
  /** Pid of the server we started (undefined for external). */
  pid?: number;
  /** Stops the server if we started it; waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Persistent data directory (the append-only file lives here). */
  dataDir: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

/** Starts (or picks) a Redis server; see the module comment for the order. */
export async function startRedis(opts: StartRedisOptions): Promise<RedisServer> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const external = process.env.REDIS_URL;
  if (external) {
    await waitForRedis(external, readyTimeoutMs);
    return { url: external, kind: 'external', stop: async () => {} };
  }
  const binary = await findOrInstallRedis(opts.log ?? (() => {}));
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const logFile = path.join(opts.dataDir, 'redis.log');
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const proc = new ServerProcess(
      'redis',
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', opts.dataDir, '--save', ''],
      logFile,
      { cwd: opts.dataDir },
    );
    const url = `redis://127.0.0.1:${port}`;
    try {
      await waitForRedis(url, readyTimeoutMs, () => proc.hasExited);
      // SIGTERM makes redis-server flush the append-only file before it exits.
      return { url, kind: 'redis-server', pid: proc.pid, stop: () => proc.stop(15_000) };
    } catch (err) {
      await proc.stop(2_000);
      lastError = new Error(`redis-server did not start (${(err as Error).message}); log ${logFile}:\n${proc.lastOutput()}`);
    }
  }
  throw lastError ?? new Error('redis-server did not start');
}

/** Sends PING until the server answers PONG or `timeoutMs` passes. */
export async function waitForRedis(url: string, timeoutMs = 30_000, exited?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error('the server process exited');
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      client.disconnect();
    }
    await sleep(100);
  }
  throw new Error(`Redis at ${url} did not answer PING within ${timeoutMs} ms: ${lastError}`);
}

async function findOrInstallRedis(log: (line: string) => void): Promise<string> {
  const found = which('redis-server') ?? which('redis-server', '/usr/bin:/usr/sbin:/usr/local/bin');
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('redis-server is not installed; install it (apt-get install redis-server) or set REDIS_URL');
  }
  log('redis-server missing: installing the Debian package redis-server…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand('apt-get', ['update'], { env, timeoutMs: 5 * 60_000 });
  await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env, timeoutMs: 5 * 60_000 });
  const installed = which('redis-server') ?? which('redis-server', '/usr/bin:/usr/sbin');
  if (!installed) throw new Error('apt-get installed redis-server but no redis-server binary was found');
  return installed;
}
