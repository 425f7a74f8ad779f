/**
 * A MongoDB-compatible server for local runs and tests, chosen in this order:
 *
 * 1. `MONGODB_URI` is set: use it, start nothing (kind `external`).
 * 2. `mongod` is on PATH: start it on a free port (kind `mongod`).
 * 3. `mongodb-memory-server-core` is installed and `MONGOMS_DISABLE` is unset:
 *    let it download a mongod binary, with a 10 s limit (kind `mongod`).
 *    Our machines reach no download site, so the package is not a dependency
 *    and this step reports "not installed" there.
 * 4. FerretDB 1.24 built from source with Go (kind `ferretdb`, see
 *    ferretdb-build.ts) on its PostgreSQL backend: a cluster of our own from
 *    Debian's `postgresql` package (postgres.ts), installed when missing.
 *    This is what our machines use: Debian has no MongoDB server package.
 * 5. FerretDB on its SQLite backend, only when PostgreSQL cannot be had (not
 *    installed and not root, or it failed to start), with a warning saying
 *    why: SQLite has one writer, and FerretDB serves only `_id` lookups on it
 *    without a scan, so it slows down as data grows.
 *
 * Every server we start gets free ports, is health-checked with a real
 * driver ping before use, and is stopped by `stop()` (FerretDB before the
 * PostgreSQL cluster under it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import mongoose from 'mongoose';
import { ensureFerretDb } from './ferretdb-build.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { freePort } from './ports.js';
import { REPO_ROOT } from './paths.js';
import { ServerProcess, runCommand, sleep, which } from './proc.js';

/** A process we started, and a string its command line contains (the start lock checks it before a kill). */
export interface StartedProcess {
  name: string;
  pid: number;
  match: string;
}

/** Control of a started server process, for tests that kill it mid-work. */
export interface ProcessControl {
  readonly pid: number | undefined;
  readonly hasExited: boolean;
  /** Sends `signal` and waits for the process to end. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same arguments (same ports, same data). */
  restart(): Promise<void>;
}

/** A running (or external) MongoDB-compatible server. */
export interface MongoServer {
  uri: string;
  kind: 'external' | 'mongod' | 'ferretdb';
  /** FerretDB's storage: PostgreSQL (the default) or SQLite (the fallback). */
  backend?: 'postgresql' | 'sqlite';
  /** Why this server was chosen, naming each option that was skipped. */
  reason: string;
  /** Pid of the server we started (undefined for external). */
  pid?: number;
  /** Every process we started (FerretDB and its PostgreSQL cluster), for the start lock. */
  processes: StartedProcess[];
  /** FerretDB's debug listener (`<debugUrl>/debug/metrics` counts its commands). */
  debugUrl?: string;
  /** The PostgreSQL cluster under FerretDB, when that is the backend. */
  postgres?: PostgresServer;
  /** The FerretDB process, when we started one. */
  ferretdb?: ProcessControl;
  /** Stops the server(s) if we started them; waits for them to exit. */
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
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const skipped: string[] = [];

  const external = process.env.MONGODB_URI;
  if (external) {
    await waitForMongo(external, readyTimeoutMs);
    return { uri: external, kind: 'external', reason: 'MONGODB_URI is set', processes: [], stop: async () => {} };
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

  const server = await startLocalFerretDb({ ...opts, readyTimeoutMs }, skipped);
  return { ...server, reason: `${skipped.join('; ')}; ${server.reason}` };
}

/**
 * Our FerretDB build on a PostgreSQL cluster of our own under
 * `<dataDir>/postgres`, or on SQLite under `<dataDir>/ferretdb` when
 * PostgreSQL cannot be had (with a warning). Tests that kill the database
 * tier start one of their own with it. `skipped` (the options that were
 * passed over before it) only goes into the error message.
 */
export async function startLocalFerretDb(opts: StartMongoOptions, skipped: string[] = []): Promise<MongoServer> {
  const log = opts.log ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let binary: string;
  try {
    binary = await ensureFerretDb(log);
  } catch (err) {
    throw new Error(
      `No MongoDB-compatible server available (${[...skipped, 'FerretDB could not be built'].join('; ')}).\n` +
        `FerretDB: ${(err as Error).message}\n` +
        'Set MONGODB_URI to a reachable server, put mongod on PATH, or install Go so FerretDB can be built.',
    );
  }

  let postgres: PostgresServer | undefined;
  try {
    postgres = await startPostgres({ dataDir: path.join(opts.dataDir, 'postgres'), log });
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    log(
      `WARNING: PostgreSQL is not available (${why}); FerretDB falls back to its SQLite backend. ` +
        'SQLite has one writer and FerretDB finds documents there only by _id without a scan, so a rush and a growing ' +
        'database get slow. Install PostgreSQL (apt-get install postgresql) to use the default backend.',
    );
    const server = await startFerretDb(binary, { kind: 'sqlite', dir: path.join(opts.dataDir, 'ferretdb') }, opts.dataDir, readyTimeoutMs);
    return {
      ...server,
      reason: `using FerretDB 1.24 on SQLite (fallback: PostgreSQL unavailable: ${why}) built from source with Go`,
    };
  }
  try {
    const server = await startFerretDb(binary, { kind: 'postgresql', url: postgres.url }, opts.dataDir, readyTimeoutMs);
    const pg = postgres;
    return {
      ...server,
      postgres: pg,
      processes: [...server.processes, { name: 'postgres', pid: pg.pid!, match: pg.pgdata }],
      reason: 'using FerretDB 1.24 on PostgreSQL (a cluster of our own) built from source with Go',
      async stop() {
        await server.stop();
        await pg.stop();
      },
    };
  } catch (err) {
    await postgres.stop();
    throw err;
  }
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
  match: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Started & { debugPort: number; control: ProcessControl }> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const debugPort = await freePort();
    const args = makeArgs(port, debugPort);
    const uri = `mongodb://127.0.0.1:${port}/`;
    const launch = async () => {
      const p = new ServerProcess(name, binary, args, logFile, { cwd: REPO_ROOT, env });
      try {
        await waitForMongo(uri, readyTimeoutMs, () => p.hasExited);
      } catch (err) {
        await p.stop(2_000);
        throw new Error(`${name} did not start (${(err as Error).message}); log ${logFile}:\n${p.lastOutput()}`);
      }
      return p;
    };
    let proc: ServerProcess;
    try {
      proc = await launch();
    } catch (err) {
      lastError = err as Error;
      continue;
    }
    const control: ProcessControl = {
      get pid() {
        return proc.pid;
      },
      get hasExited() {
        return proc.hasExited;
      },
      async kill(signal) {
        proc.child.kill(signal);
        await proc.exited;
      },
      async restart() {
        if (!proc.hasExited) await proc.stop(15_000);
        proc = await launch();
      },
    };
    return {
      uri,
      kind,
      pid: proc.pid,
      processes: [{ name, pid: proc.pid!, match }],
      debugPort,
      control,
      stop: () => proc.stop(15_000),
    };
  }
  throw lastError ?? new Error(`${name} did not start`);
}

type FerretBackend = { kind: 'postgresql'; url: string } | { kind: 'sqlite'; dir: string };

async function startFerretDb(binary: string, backend: FerretBackend, dataDir: string, readyTimeoutMs: number): Promise<Started> {
  if (backend.kind === 'sqlite') fs.mkdirSync(backend.dir, { recursive: true });
  const storage =
    backend.kind === 'postgresql'
      ? ['--handler=postgresql', `--postgresql-url=${backend.url}`]
      : ['--handler=sqlite', `--sqlite-url=file:${backend.dir}/`];
  const started = await startWithRetry(
    'ferretdb',
    binary,
    path.join(dataDir, 'ferretdb.log'),
    (port, debugPort) => [
      ...storage,
      `--state-dir=${dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      // Telemetry would try to reach the internet; the debug listener defaults to a fixed port.
      '--telemetry=disable',
      `--debug-addr=127.0.0.1:${debugPort}`,
      '--log-level=warn',
    ],
    readyTimeoutMs,
    'ferretdb',
    `--state-dir=${dataDir}`,
    // Go's collector runs when the heap doubles (GOGC=100); FerretDB's heap is small and it
    // allocates for every document it decodes, so a CPU profile showed 14% in GC. 400: a
    // fraction of that, for a few more megabytes of heap. An explicit GOGC wins.
    { ...process.env, GOGC: process.env.GOGC ?? '400' },
  );
  const { debugPort, control, ...server } = started;
  return { ...server, backend: backend.kind, debugUrl: `http://127.0.0.1:${debugPort}`, ferretdb: control };
}

async function startMongod(binary: string, dataDir: string, readyTimeoutMs: number): Promise<Started> {
  const dir = path.join(dataDir, 'mongod');
  fs.mkdirSync(dir, { recursive: true });
  const { debugPort: _unused, control: _control, ...server } = await startWithRetry(
    'mongod',
    binary,
    path.join(dataDir, 'mongod.log'),
    (port) => ['--dbpath', dir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'],
    readyTimeoutMs,
    'mongod',
    dir,
  );
  return server;
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
