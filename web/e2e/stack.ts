/**
 * The system for the browser tests: the shared end-to-end harness
 * (`startStack` from test/support/stack.ts: every subgraph, worker and the real
 * router on the checked-in supergraph, own databases and queue prefix), plus
 * the web-specific part: the web app built with `vite build` into a temporary
 * folder and served by web/serve.ts, with /graphql (HTTP + WebSocket) proxied
 * to the router. Real FerretDB/MongoDB and Redis come from the vitest global
 * setup (MONGODB_URI, REDIS_URL, JWT_SECRET, INTERNAL_JWT_SECRET).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireEnv, startStack, type Stack } from '../../test/support/stack.ts';
import { startWebServer } from '../serve.ts';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `vite build` of web/ into a fresh temporary folder (the same build production serves). */
export function buildWeb(): string {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rental-web-'));
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  try {
    execFileSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: webDir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    fs.rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
  return outDir;
}

/** The shared stack plus the web page's origin. */
export interface WebStack extends Stack {
  /** The web page's origin, e.g. http://127.0.0.1:41234 */
  webUrl: string;
}

/** Starts the shared stack, builds the web app and serves it in front of the router. `stop()` stops all of it. */
export async function startWebStack(tag: string): Promise<WebStack> {
  const jwtSecret = requireEnv('JWT_SECRET');
  const system = await startStack({ tag: `web_${tag}` });
  let distDir: string | undefined;
  let web: Awaited<ReturnType<typeof startWebServer>> | undefined;
  const stopWeb = async () => {
    await web?.stop().catch(() => undefined);
    web = undefined;
    if (distDir) fs.rmSync(distDir, { recursive: true, force: true });
    distDir = undefined;
  };
  try {
    distDir = buildWeb();
    web = await startWebServer({
      distDir,
      routerUrl: new URL(system.url).origin,
      // The LOCAL-ONLY sign-in form mints tokens with the router's secret (tests only).
      localSignInSecret: jwtSecret,
    });
  } catch (err) {
    await stopWeb();
    await system.stop();
    throw err;
  }
  const stopSystem = system.stop.bind(system);
  return Object.assign(system, {
    webUrl: web.url,
    async stop() {
      await stopWeb();
      await stopSystem();
    },
  });
}
