/**
 * A MongoDB-compatible server for local runs and tests, chosen in this order
 * (chooseMongo decides, startMongo starts):
 *
 * 1. `MONGODB_URI` is set: use it, start nothing (kind `external`).
 * 2. `mongod` is on PATH: start it on a free port (kind `mongod`).
 * 3. A real mongod from mongodb-memory-server-core, unless `MONGOMS_DISABLE`
 *    is set (kind `mongod`): the one in its cache, else downloaded when the
 *    download host answers within 1.5 s; a failure is remembered for hours
 *    so later starts skip this step at no cost (mongod-download.ts). This is
 *    what a laptop with internet gets. A downloaded mongod that does not
 *    start is reported and passed over.
 * 4. FerretDB 1.24 built from source with Go (kind `ferretdb`, see
 *    ferretdb-build.ts) on its PostgreSQL backend: a cluster of our own from
 *    Debian's `postgresql` package (postgres.ts), installed when missing.
 *    This is what our machines use: Debian has no MongoDB server package and
 *    they reach no download site.
 * 5. FerretDB on its SQLite backend, only when PostgreSQL cannot be had (not
 *    installed and not root, or it failed to start), with a warning saying
 *    why: SQLite has one writer, and FerretDB serves only `_id` lookups on it
 *    without a scan, so it slows down as data grows.
 *
 * When none of these is possible, one message names each option that was
 * passed over and what to install or set. Every server we start gets free
 * ports, is health-checked with a real driver ping before use, and is stopped
 * by `stop()` (FerretDB before the PostgreSQL cluster under it).
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { GO_MIN_VERSION, GoUnavailableError, ensureFerretDb } from './ferretdb-build.js';
import { downloadedMongod } from './mongod-download.js';
import { startPostgres, type PostgresServer } from './postgres.js';
import { freePort } from './ports.js';
import { REPO_ROOT } from './paths.js';
import { ServerProcess, sleep, which } from './proc.js';

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

/**
 * Which server startMongo will use, decided without starting one (steps 1-3
 * of the module comment; `ferretdb` stands for 4 and 5). Separate so a test
 * can run the choice on a machine without network or mongod and time it.
 */
export type MongoChoice =
  | { kind: 'external'; uri: string; reason: string }
  | { kind: 'mongod'; binary: string; source: 'path' | 'download'; reason: string; skipped: string[] }
  | {
      kind: 'ferretdb';
      /** The options passed over, each with why. */
      skipped: string[];
      /** What would make the download step work (for the "nothing available" message). */
      downloadRemedy: string;
    };

/** Decides which server to use (see {@link MongoChoice}); may download mongod (step 3). */
export async function chooseMongo(log: (line: string) => void = () => {}): Promise<MongoChoice> {
  const skipped: string[] = [];
  const external = process.env.MONGODB_URI;
  if (external) return { kind: 'external', uri: external, reason: 'MONGODB_URI is set' };
  skipped.push('MONGODB_URI not set');

  const mongod = which('mongod');
  if (mongod) return { kind: 'mongod', binary: mongod, source: 'path', reason: `using mongod on PATH (${mongod})`, skipped };
  skipped.push('no mongod on PATH');

  const downloaded = await downloadedMongod(log);
  if (downloaded.path) {
    return {
      kind: 'mongod',
      binary: downloaded.path,
      source: 'download',
      reason: `using mongod from mongodb-memory-server (${downloaded.path})`,
      skipped,
    };
  }
  skipped.push(downloaded.why);
  return { kind: 'ferretdb', skipped, downloadRemedy: downloaded.remedy };
}

/** Starts (or picks) a MongoDB-compatible server; see the module comment for the order. */
export async function startMongo(opts: StartMongoOptions): Promise<MongoServer> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const choice = await chooseMongo(opts.log);
  if (choice.kind === 'external') {
    await waitForMongo(choice.uri, readyTimeoutMs);
    return { uri: choice.uri, kind: 'external', reason: choice.reason, processes: [], stop: async () => {} };
  }
  let skipped: string[];
  let downloadRemedy: string;
  if (choice.kind === 'mongod') {
    if (choice.source === 'path') {
      const server = await startMongod(choice.binary, opts.dataDir, readyTimeoutMs);
      return { ...server, reason: `${choice.skipped.join('; ')}; ${choice.reason}` };
    }
    try {
      const server = await startMongod(choice.binary, opts.dataDir, readyTimeoutMs);
      return { ...server, reason: `${choice.skipped.join('; ')}; ${choice.reason}` };
    } catch (err) {
      const why = `the downloaded mongod ${choice.binary} did not start (${(err as Error).message.split('\n')[0]})`;
      opts.log?.(`${why}; trying FerretDB`);
      skipped = [...choice.skipped, why];
      downloadRemedy = `make ${choice.binary} start (see ${path.join(opts.dataDir, 'mongod.log')}), or set MONGOMS_DISABLE=1 to skip it`;
    }
  } else {
    ({ skipped, downloadRemedy } = choice);
  }
  const server = await startLocalFerretDb({ ...opts, readyTimeoutMs }, skipped, downloadRemedy);
  return { ...server, reason: `${skipped.join('; ')}; ${server.reason}` };
}

/**
 * The one message for "no server can be had": each option passed over and
 * why, then what to install or set, one line each.
 */
export function nothingAvailableMessage(skipped: string[], ferretDbError: Error, downloadRemedy?: string): string {
  const goFix =
    ferretDbError instanceof GoUnavailableError
      ? `install Go ≥ ${GO_MIN_VERSION} from https://go.dev/dl/ (FerretDB is then built from source, once, in 1-2 minutes)`
      : 'fix the FerretDB build (its error is on the first line), or remove .data/bin and .data/build and start again';
  return [
    `No MongoDB-compatible server available: ${[...skipped, `FerretDB: ${ferretDbError.message}`].join('; ')}.`,
    'Any one of these makes `npm start` and the tests work:',
    `  - ${goFix}`,
    '  - set MONGODB_URI to a MongoDB server you can reach (in the environment or .env)',
    '  - put mongod on PATH',
    ...(downloadRemedy ? [`  - ${downloadRemedy}`] : []),
  ].join('\n');
}

/**
 * Our FerretDB build on a PostgreSQL cluster of our own under
 * `<dataDir>/postgres`, or on SQLite under `<dataDir>/ferretdb` when
 * PostgreSQL cannot be had (with a warning). Tests that kill the database
 * tier start one of their own with it. `skipped` (the options that were
 * passed over before it) and `downloadRemedy` only go into the error message.
 */
export async function startLocalFerretDb(opts: StartMongoOptions, skipped: string[] = [], downloadRemedy?: string): Promise<MongoServer> {
  const log = opts.log ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let binary: string;
  try {
    binary = await ensureFerretDb(log);
  } catch (err) {
    throw new Error(nothingAvailableMessage(skipped, err as Error, downloadRemedy));
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
