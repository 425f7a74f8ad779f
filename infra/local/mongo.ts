/**
 * A MongoDB-compatible server for local runs and tests, chosen in this order:
 *
 * 1. `MONGODB_URI` is set: use it, start nothing (kind `external`).
 * 2. `mongod` is on PATH: start it on a free port (kind `mongod`).
 * 3. `mongodb-memory-server-core` is installed and `MONGOMS_DISABLE` is unset:
 *    let it download a mongod binary, with a 10 s limit (kind `mongod`).
 *    Our machines reach no download site, so the package is not a dependency
 *    and this step reports "not installed" there.
 * 4. FerretDB 1.24 on SQLite, built from source with Go (kind `ferretdb`),
 *    see ferretdb-build.ts. This is what our machines use: Debian has no
 *    MongoDB server package.
 *
 * Every server we start gets free ports, is health-checked with a real
 * driver ping before use, and is stopped by `stop()`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import mongoose from 'mongoose';
import { ensureFerretDb } from './ferretdb-build.js';
import { freePort } from './ports.js';
import { REPO_ROOT } from './paths.js';
import { ServerProcess, runCommand, sleep, which } from './proc.js';

/** A running (or external) MongoDB-compatible server. */
export interface MongoServer {
  uri: string;
  kind: 'external' | 'mongod' | 'ferretdb';
  /** Why this server was chosen, naming each option that was skipped. */
  reason: string;
  /** Pid of the server we started (undefined for external). */
  pid?: number;
  /** Stops the server if we started it; waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartMongoOptions {
  /** Persistent data directory; each server kind uses its own sub-folder. */
  dataDir: string;
  /** Progress lines (the build message, which server was chosen). */
  log?: (line: string) => void;
  /** How long to wait for a started server to answer a ping. */
  readyTimeoutMs?: number;
}

/** Starts (or picks) a MongoDB-compatible server; see the module comment for the order. */
export async function startMongo(opts: StartMongoOptions): Promise<MongoServer> {
  const log = opts.log ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const skipped: string[] = [];

  const external = process.env.MONGODB_URI;
  if (external) {
    await waitForMongo(external, readyTimeoutMs);
    return { uri: external, kind: 'external', reason: 'MONGODB_URI is set', stop: async () => {} };
  }
  skipped.push('MONGODB_URI not set');

  const mongod = which('mongod');
  if (mongod) {
    const server = await startMongod(mongod, opts.dataDir, readyTimeoutMs);
    return { ...server, reason: `${skipped.join('; ')}; using mongod on PATH (${mongod})` };
  }
  skipped.push('no mongod on PATH');

  const downloaded = await downloadMongodBinary();
  if (downloaded.path) {
    const server = await startMongod(downloaded.path, opts.dataDir, readyTimeoutMs);
    return { ...server, reason: `${skipped.join('; ')}; using mongod downloaded by mongodb-memory-server` };
  }
  skipped.push(downloaded.why);

  let binary: string;
  try {
    binary = await ensureFerretDb(log);
  } catch (err) {
    throw new Error(
      `No MongoDB-compatible server available (${skipped.join('; ')}).\n` +
        `FerretDB: ${(err as Error).message}\n` +
        'Set MONGODB_URI to a reachable server, put mongod on PATH, or install Go so FerretDB can be built.',
    );
  }
  const server = await startFerretDb(binary, opts.dataDir, readyTimeoutMs);
  return {
    ...server,
    reason: `${skipped.join('; ')}; using FerretDB 1.24 (SQLite backend) built from source with Go`,
  };
}

/** Connects with the real driver and pings until the server answers or `timeoutMs` passes. */
export async function waitForMongo(uri: string, timeoutMs = 30_000, exited?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error('the server process exited');
    const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await client.close().catch(() => {});
    }
    await sleep(200);
  }
  throw new Error(`MongoDB at ${uri} did not answer a ping within ${timeoutMs} ms: ${lastError}`);
}

type Started = Omit<MongoServer, 'reason'>;

/** Starts a server with `args(port, ...)`; retries with new ports if it dies (e.g. a port race). */
async function startWithRetry(
  name: string,
  binary: string,
  logFile: string,
  makeArgs: (port: number, debugPort: number) => string[],
  readyTimeoutMs: number,
  kind: Started['kind'],
): Promise<Started> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const debugPort = await freePort();
    const proc = new ServerProcess(name, binary, makeArgs(port, debugPort), logFile, { cwd: REPO_ROOT });
    const uri = `mongodb://127.0.0.1:${port}/`;
    try {
      await waitForMongo(uri, readyTimeoutMs, () => proc.hasExited);
      return { uri, kind, pid: proc.pid, stop: () => proc.stop(15_000) };
    } catch (err) {
      await proc.stop(2_000);
      lastError = new Error(`${name} did not start (${(err as Error).message}); log ${logFile}:\n${proc.lastOutput()}`);
    }
  }
  throw lastError ?? new Error(`${name} did not start`);
}

function startFerretDb(binary: string, dataDir: string, readyTimeoutMs: number): Promise<Started> {
  const dir = path.join(dataDir, 'ferretdb');
  fs.mkdirSync(dir, { recursive: true });
  return startWithRetry(
    'ferretdb',
    binary,
    path.join(dataDir, 'ferretdb.log'),
    (port, debugPort) => [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      // Telemetry would try to reach the internet; the debug listener defaults to a fixed port.
      '--telemetry=disable',
      `--debug-addr=127.0.0.1:${debugPort}`,
      '--log-level=warn',
    ],
    readyTimeoutMs,
    'ferretdb',
  );
}

function startMongod(binary: string, dataDir: string, readyTimeoutMs: number): Promise<Started> {
  const dir = path.join(dataDir, 'mongod');
  fs.mkdirSync(dir, { recursive: true });
  return startWithRetry(
    'mongod',
    binary,
    path.join(dataDir, 'mongod.log'),
    (port) => ['--dbpath', dir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'],
    readyTimeoutMs,
    'mongod',
  );
}

/**
 * Asks mongodb-memory-server for a mongod binary, in a child process killed
 * after 10 s so an unreachable download site cannot hang the start.
 */
async function downloadMongodBinary(): Promise<{ path?: string; why: string }> {
  if (process.env.MONGOMS_DISABLE) return { why: 'mongodb-memory-server disabled by MONGOMS_DISABLE' };
  const pkg = 'mongodb-memory-server-core';
  try {
    createRequire(path.join(REPO_ROOT, 'package.json')).resolve(pkg);
  } catch {
    return { why: `${pkg} not installed (our machines cannot download a mongod binary)` };
  }
  const script = `import('${pkg}').then((m) => m.MongoBinary.getPath()).then((p) => console.log('MONGOD=' + p))`;
  try {
    const { output } = await runCommand(process.execPath, ['-e', script], { cwd: REPO_ROOT, timeoutMs: 10_000 });
    const found = /MONGOD=(.+)/.exec(output)?.[1]?.trim();
    if (found && fs.existsSync(found)) return { path: found, why: '' };
    return { why: `${pkg} found no mongod binary` };
  } catch (err) {
    return { why: `${pkg} could not download mongod (${(err as Error).message.split('\n')[0]})` };
  }
}
