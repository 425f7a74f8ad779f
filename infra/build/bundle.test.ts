/**
 * The bundles the images run: built by infra/build/bundle.ts, they keep npm
 * packages external and inline workspace code, refuse imports the image would
 * not install, and actually start as `node <bundle>` against the test run's
 * MongoDB and Redis (a subgraph, a worker, the router), then exit cleanly on
 * SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { bundle, defaultEntries, dependencyClosure, externalsPlugin, packageName } from './bundle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// Inside the root node_modules: Node resolves the external packages from there, and git/docker ignore it.
const OUT = path.join(ROOT, 'node_modules', '.cache', `rental-bundle-test-${process.pid}`);

afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

/** The subgraphs that run an event worker beside their API (items has none). */
const WORKER_SUBGRAPHS = ['reservations', 'stores', 'rentals'];

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts `node file` and resolves with the first log line matching `ready`. */
function start(file: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string; output: () => string }> {
  const child = spawn(process.execPath, ['--enable-source-maps', file], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      MONGODB_URI: process.env.MONGODB_URI ?? '',
      REDIS_URL: process.env.REDIS_URL ?? '',
      INTERNAL_JWT_SECRET: 'bundle-test-internal-secret-0123456789abcdef',
      JWT_SECRET: 'bundle-test-caller-secret-0123456789abcdefgh',
      QUEUE_PREFIX: `bundle-test-${process.pid}`,
      MONGODB_DB_PREFIX: `bundle-test-${process.pid}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start in time:\n${out}`)), 25_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

/**
 * SIGTERM, and the exit code. The entries log "listening"/"consuming" from
 * inside their start function and install the signal handlers right after it
 * returns, so give them a moment first (a SIGTERM in that gap would kill the
 * process the default way, which is not what this test is about).
 */
async function stop(child: ChildProcess): Promise<string> {
  await new Promise((r) => setTimeout(r, 500));
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(`exit ${child.exitCode}`);
    child.once('exit', (code, signal) => resolve(code === null ? `signal ${signal}` : `exit ${code}`));
    child.kill('SIGTERM');
  });
}

describe('bundle.ts', () => {
  it('finds the entries of each deployable folder by convention: src/main.ts, and src/worker-main.ts where there is a worker', () => {
    const MAIN = { in: 'src/main.ts', out: 'main' };
    const WORKER = { in: 'src/worker-main.ts', out: 'worker-main' };
    expect(defaultEntries(path.join(ROOT, 'router'))).toEqual([MAIN]);
    expect(defaultEntries(path.join(ROOT, 'subgraphs/items'))).toEqual([MAIN]);
    for (const name of WORKER_SUBGRAPHS) expect(defaultEntries(path.join(ROOT, 'subgraphs', name)), name).toEqual([MAIN, WORKER]);
    // Every subgraph with a worker factory (src/worker.ts) has its entry, and no other.
    for (const name of fs.readdirSync(path.join(ROOT, 'subgraphs'))) {
      const has = (f: string) => fs.existsSync(path.join(ROOT, 'subgraphs', name, 'src', f));
      expect(has('worker-main.ts'), `${name}: src/worker.ts and src/worker-main.ts go together`).toBe(has('worker.ts'));
      expect(has('worker-app.ts'), name).toBe(false);
    }
  });

  it('follows only production dependencies through workspace packages', () => {
    const c = dependencyClosure(path.join(ROOT, 'subgraphs/items'), ROOT);
    expect(c.workspace.has('@rental/config')).toBe(true);
    expect(c.npm.has('zod')).toBe(true);
    expect(c.npm.has('vitest')).toBe(false);
    expect(packageName('@apollo/server/errors')).toBe('@apollo/server');
    expect(packageName('graphql/language')).toBe('graphql');
  });

  it('refuses an import that the image would not install', async () => {
    const dir = path.join(OUT, 'refuse');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'entry.ts'), "import 'vitest';\nimport 'zod';\n");
    const closure = { npm: new Set(['zod']), workspace: new Set<string>() };
    await expect(
      build({ entryPoints: [path.join(dir, 'entry.ts')], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'silent', plugins: [externalsPlugin('@rental/x', closure)] }),
    ).rejects.toThrow(/vitest is imported at run time but is not in the production dependencies/);
  });

  it('bundles workspace code in and leaves npm packages as imports', async () => {
    const [main] = await bundle(path.join(ROOT, 'subgraphs/items'), undefined, path.join(OUT, 'items'));
    const code = fs.readFileSync(main!, 'utf8');
    expect(code).not.toMatch(/from ["']@rental\//);
    expect(code).toMatch(/from ["']mongoose["']/);
    expect(fs.existsSync(`${main}.map`)).toBe(true);
  });

  it('bundles both entries of every subgraph with a worker', { timeout: 60_000 }, async () => {
    for (const name of WORKER_SUBGRAPHS) {
      const files = await bundle(path.join(ROOT, 'subgraphs', name), undefined, path.join(OUT, `entries-${name}`));
      expect(files.map((f) => path.basename(f)), name).toEqual(['main.js', 'worker-main.js']);
      for (const f of files) expect(fs.existsSync(f), f).toBe(true);
    }
  });

  it('starts the bundled items subgraph, serves /healthz, and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const [main] = await bundle(path.join(ROOT, 'subgraphs/items'), undefined, path.join(OUT, 'items-run'));
    const { child, line } = await start(main!, { ITEMS_PORT: '0' }, /"url":"http:\/\/127\.0\.0\.1:\d+\/graphql"/);
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/.exec(line)![1];
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await stop(child)).toBe('exit 0');
  });

  it('starts the bundled router and the bundled stores worker', { timeout: 60_000 }, async () => {
    const [router] = await bundle(path.join(ROOT, 'router'), undefined, path.join(OUT, 'router'));
    const r = await start(router!, { ROUTER_PORT: '0', SUPERGRAPH_WATCH: 'false', ALLOW_HS256_IN_PRODUCTION: 'true' }, /"url":"http:\/\/127\.0\.0\.1:\d+\/graphql"/);
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/.exec(r.line)![1];
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await stop(r.child), r.output()).toBe('exit 0');

    const files = await bundle(path.join(ROOT, 'subgraphs/stores'), undefined, path.join(OUT, 'stores'));
    const w = await start(files.find((f) => f.endsWith('/worker-main.js'))!, {}, /stores worker consuming/);
    expect(await stop(w.child), w.output()).toBe('exit 0');
  });
});
