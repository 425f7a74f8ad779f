/**
 * `npm start` itself (infra/local/start.ts) as a child process, for browser
 * tests of what a developer gets: the web client it builds into web/dist and
 * serves with web/serve.ts (LOCAL_SIGN_IN=true, its JWT secret), the demo data
 * it seeds, the real router, subgraphs and workers. It runs on free ports with
 * this run's MongoDB and Redis (the vitest global setup), its own database and
 * queue prefix and its own data dir (RENTAL_DATA_DIR, for the start lock);
 * `stop()` sends SIGTERM as Ctrl-C would, then drops the databases and queues.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../infra/local/ports.ts';
import { REPO_ROOT } from '../../infra/local/paths.ts';
import { removeRunData } from '../../test/support/stack.ts';

const PORTS = ['ROUTER_PORT', 'ITEMS_PORT', 'RESERVATIONS_PORT', 'STORES_PORT', 'RENTALS_PORT', 'WEB_PORT'] as const;

/** A running `npm start`. */
export interface NpmStart {
  /** The web client's origin, as start.ts serves it (e.g. http://127.0.0.1:41234). */
  webUrl: string;
  /** The router's GraphQL URL. */
  routerUrl: string;
  /** Everything it printed so far (stdout and stderr, one entry a line). */
  output(): string[];
  stop(): Promise<void>;
}

/**
 * Starts `npm start` and resolves once it printed `Web client:` (every service
 * ready, the demo data seeded, the web client served). Rejects with its last
 * output when it stops first or takes longer than `timeoutMs`.
 */
export async function startNpmStart(tag: string, timeoutMs = 240_000): Promise<NpmStart> {
  const ports = {} as Record<(typeof PORTS)[number], number>;
  for (const p of PORTS) ports[p] = await freePort();
  const prefix = `e2e_${tag}_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'rental-start-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(PORTS.map((p) => [p, String(ports[p])])),
    RENTAL_DATA_DIR: dataDir,
    MONGODB_DB_PREFIX: prefix,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    SUPERGRAPH_WATCH: 'false',
  };
  // As a developer runs it: start.ts decides NODE_ENV (development) and LOCAL_SIGN_IN (true).
  delete env.NODE_ENV;
  delete env.LOCAL_SIGN_IN;
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tail = () => lines.slice(-80).join('\n');

  const cleanUp = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      await exited;
      clearTimeout(timer);
    }
    await removeRunData({ mongoUri: process.env.MONGODB_URI as string, redisUrl: process.env.REDIS_URL, dbPrefix: prefix, queuePrefix: prefix });
    rmSync(dataDir, { recursive: true, force: true });
  };

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no "Web client:" within ${timeoutMs / 1000} s:\n${tail()}`)), timeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      if (line.includes('[start] Web client: ')) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) if (line) onLine(line);
      });
    }
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (code ${child.exitCode}) before serving the web client:\n${tail()}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    await cleanUp();
    throw err;
  }
  return {
    webUrl: `http://127.0.0.1:${ports.WEB_PORT}`,
    routerUrl: `http://127.0.0.1:${ports.ROUTER_PORT}/graphql`,
    output: () => [...lines],
    stop: cleanUp,
  };
}
