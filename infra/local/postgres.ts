/**
 * A PostgreSQL cluster of our own, the storage of FerretDB's `postgresql`
 * backend (see mongo.ts). Debian's `postgresql` package provides the
 * binaries; when they are missing and we run as root it is installed, as
 * redis-server is.
 *
 * - `initdb` once under `<dataDir>/pgdata` (trust authentication for the
 *   `postgres` role, UTF-8); later starts reuse the cluster and its data.
 * - Started with `postgres -D … -c port=<free port>`, and the settings of
 *   {@link SERVER_SETTINGS}, written to `pgdata/rental.conf` (included by
 *   `postgresql.conf`) at every start: durable (fsync and synchronous
 *   commits on, full-page writes), on 127.0.0.1 only, no Unix socket, sized
 *   for a developer machine. `ALTER SYSTEM` still overrides them, e.g.
 *   `ALTER SYSTEM SET log_min_duration_statement = 0` to log every
 *   statement FerretDB sends. The log goes to `<dataDir>/postgres.log`.
 * - PostgreSQL refuses to run as root. As root, the cluster belongs to the
 *   `postgres` system user (the package creates it): the data folder is
 *   chowned to it and the server runs under its uid, so every folder above
 *   the data folder must let it through (we add o+x where missing, inside
 *   the repository's `.data/` only).
 * - `stop()` asks for a fast shutdown (SIGINT: running transactions are
 *   rolled back, clients disconnected, a checkpoint written); a SIGKILL
 *   (tests do it) is recovered from the WAL on the next start.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { dataPath } from './paths.js';
import { freePort } from './ports.js';
import { ServerProcess, runCommand, sleep, which } from './proc.js';

/** A running PostgreSQL cluster we started. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  pid: number | undefined;
  /** The cluster's data folder (`<dataDir>/pgdata`), also what its command line contains. */
  pgdata: string;
  /** True once the server process has ended (stopped, or killed). */
  readonly hasExited: boolean;
  /** Fast shutdown; waits for the process to end. */
  stop(): Promise<void>;
  /** Sends `signal` to the server (tests: SIGKILL mid-burst) and waits for it to end. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts the same cluster again on the same port (after `stop`/`kill`). */
  restart(): Promise<void>;
}

export interface StartPostgresOptions {
  dataDir: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

/**
 * The cluster's settings (`pgdata/rental.conf`). Durability is never traded
 * for speed here: the server we measure on keeps MongoDB's promise that an
 * acknowledged write survives a crash.
 */
export const SERVER_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  // FerretDB keeps a pool of up to 50 connections per client connection pool;
  // several FerretDB instances (tests start their own) share one cluster only in tests.
  max_connections: '300',
  shared_buffers: '256MB',
  // Statistics soon after a bulk load, so the planner picks the indexes.
  autovacuum_naptime: '10s',
  // Slow statements land in the log: what FerretDB really sends.
  log_min_duration_statement: '250',
  log_checkpoints: 'off',
};

/** Where the PostgreSQL server binaries are: PATH, else the newest `/usr/lib/postgresql/<major>/bin`. */
export function findPostgresBinaries(): { initdb: string; postgres: string } | undefined {
  const onPath = { initdb: which('initdb'), postgres: which('postgres') };
  if (onPath.initdb && onPath.postgres) return { initdb: onPath.initdb, postgres: onPath.postgres };
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    const bin = path.join(root, major, 'bin');
    const initdb = path.join(bin, 'initdb');
    const postgres = path.join(bin, 'postgres');
    if (fs.existsSync(initdb) && fs.existsSync(postgres)) return { initdb, postgres };
  }
  return undefined;
}

/**
 * The binaries, installing Debian's `postgresql` when they are missing and we
 * are root. Throws an error saying what to install otherwise.
 */
export async function findOrInstallPostgres(log: (line: string) => void): Promise<{ initdb: string; postgres: string }> {
  const found = findPostgresBinaries();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('PostgreSQL is not installed and we are not root to install it (apt-get install postgresql)');
  }
  log('PostgreSQL missing: installing the Debian package postgresql…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand('apt-get', ['update'], { env, timeoutMs: 5 * 60_000 });
  await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env, timeoutMs: 10 * 60_000 });
  const installed = findPostgresBinaries();
  if (!installed) throw new Error('apt-get installed postgresql but no initdb/postgres binary was found');
  return installed;
}

/** The uid/gid the server runs as: ours, or the `postgres` system user when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('running as root, but there is no `postgres` system user to run PostgreSQL as (PostgreSQL refuses root)');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Lets `user` reach `dir`: adds o+x to every folder from `.data/` down to
 * `dir` that lacks it (a `mkdtemp` folder is 0700). Folders above `.data/`
 * are left alone; if one of them blocks the user, initdb says so.
 */
function makeTraversable(dir: string): void {
  const top = path.resolve(dataPath());
  let current = path.resolve(dir);
  const chain: string[] = [];
  while (current.startsWith(top)) {
    chain.push(current);
    if (current === top) break;
    current = path.dirname(current);
  }
  for (const d of chain) {
    const mode = fs.statSync(d).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(d, (mode & 0o7777) | 0o001);
  }
}

/** Connects and runs `SELECT 1` until the server answers or `timeoutMs` passes. */
export async function waitForPostgres(url: string, timeoutMs: number, exited?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error('the server process exited');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await client.end().catch(() => {});
    }
    await sleep(200);
  }
  throw new Error(`PostgreSQL at ${url} did not answer within ${timeoutMs} ms: ${lastError}`);
}

/** Creates the cluster under `pgdata` unless it exists. */
async function initCluster(initdb: string, pgdata: string, user: { uid: number; gid: number } | undefined, log: (line: string) => void): Promise<void> {
  if (fs.existsSync(path.join(pgdata, 'PG_VERSION'))) return;
  fs.rmSync(pgdata, { recursive: true, force: true });
  fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (user) fs.chownSync(pgdata, user.uid, user.gid);
  makeTraversable(path.dirname(pgdata));
  log(`creating a PostgreSQL cluster in ${pgdata}…`);
  await runCommand(initdb, ['-D', pgdata, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'], {
    timeoutMs: 120_000,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
}

/**
 * Writes {@link SERVER_SETTINGS} to `pgdata/rental.conf` and makes
 * `postgresql.conf` include it (once).
 */
function writeSettings(pgdata: string, user: { uid: number; gid: number } | undefined): void {
  const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const file = path.join(pgdata, 'rental.conf');
  const lines = Object.entries(SERVER_SETTINGS).map(([k, v]) => `${k} = ${quote(v)}`);
  fs.writeFileSync(file, `# Written by infra/local/postgres.ts at every start; ALTER SYSTEM overrides it.\n${lines.join('\n')}\n`);
  if (user) fs.chownSync(file, user.uid, user.gid);
  const main = path.join(pgdata, 'postgresql.conf');
  const text = fs.readFileSync(main, 'utf8');
  if (!text.includes("include 'rental.conf'")) fs.appendFileSync(main, "\ninclude 'rental.conf'\n");
}

/** Starts (creating it the first time) the cluster under `<dataDir>/pgdata` on a free port. */
export async function startPostgres(opts: StartPostgresOptions): Promise<PostgresServer> {
  const log = opts.log ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const bin = await findOrInstallPostgres(log);
  const user = serverUser();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const pgdata = path.join(opts.dataDir, 'pgdata');
  await initCluster(bin.initdb, pgdata, user, log);
  makeTraversable(opts.dataDir);
  const logFile = path.join(opts.dataDir, 'postgres.log');

  writeSettings(pgdata, user);

  const launch = async (port: number): Promise<ServerProcess> => {
    // A server killed with SIGKILL leaves its pid file; the new one checks that pid and goes on.
    const proc = new ServerProcess('postgres', bin.postgres, ['-D', pgdata, '-c', `port=${port}`], logFile, {
      cwd: opts.dataDir,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitForPostgres(url, readyTimeoutMs, () => proc.hasExited);
      return proc;
    } catch (err) {
      await proc.stop(5_000, 'SIGINT');
      throw new Error(`PostgreSQL did not start (${(err as Error).message}); log ${logFile}:\n${proc.lastOutput()}`);
    }
  };

  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    let proc: ServerProcess;
    try {
      proc = await launch(port);
    } catch (err) {
      lastError = err as Error;
      continue;
    }
    const server: PostgresServer = {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      pgdata,
      get pid() {
        return proc.pid;
      },
      get hasExited() {
        return proc.hasExited;
      },
      stop: () => proc.stop(30_000, 'SIGINT'),
      async kill(signal) {
        proc.child.kill(signal);
        await proc.exited;
      },
      async restart() {
        if (!proc.hasExited) await proc.stop(30_000, 'SIGINT');
        proc = await launch(port);
      },
    };
    return server;
  }
  throw lastError ?? new Error('PostgreSQL did not start');
}
