/**
 * `ensureWebBuild()`: `vite build` into web/dist unless the build there is
 * newer than every input (web/src, index.html, vite.config.ts, package.json,
 * the lock file). `npm start` calls it before serving web/dist with serve.ts.
 * Node-only (no DOM types): the root tsconfig checks it through start.ts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIST_DIR = path.join(WEB_DIR, 'dist');

/** Newest modification time (ms) of a file or of the files under a folder; 0 when missing. */
function newestMtime(p: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Why web/dist must be (re)built, or undefined when it is up to date. */
export function webBuildStaleReason(distDir = WEB_DIST_DIR): string | undefined {
  const built = newestMtime(path.join(distDir, 'index.html'));
  if (built === 0) return `${path.relative(process.cwd(), distDir) || distDir} has no build yet`;
  const inputs = ['src', 'index.html', 'vite.config.ts', 'package.json', '../package-lock.json'];
  const changed = inputs.filter((rel) => newestMtime(path.join(WEB_DIR, rel)) > built);
  return changed.length > 0 ? `changed since the last build: ${changed.map((c) => c.replace('../', '')).join(', ')}` : undefined;
}

/** Runs `vite build` into `distDir` (web/dist) when it is missing or stale; resolves to whether it built. */
export async function ensureWebBuild(opts: { distDir?: string; log?: (line: string) => void } = {}): Promise<boolean> {
  const distDir = opts.distDir ?? WEB_DIST_DIR;
  const reason = webBuildStaleReason(distDir);
  if (!reason) return false;
  opts.log?.(`building the web client (${reason})…`);
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--outDir', distDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: WEB_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`vite build failed (exit ${code}):\n${stderr.trim()}`))));
  });
  opts.log?.(`web client built into ${path.relative(process.cwd(), distDir) || distDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}
