/**
 * Builds FerretDB 1.24 (a MongoDB-compatible server on SQLite) from source
 * with Go, because no MongoDB server package exists in Debian and our
 * machines reach only package registries. The binary lands in
 * `.data/bin/ferretdb` and is reused by every later start and test run.
 *
 * Why not `go install …@v1.24.2`: the module proxy here refuses the version
 * list request that `go install` makes; `go get` inside a throwaway module
 * works, so we fetch the source that way and build it from the module cache.
 * FerretDB reads its version from `build/version/version.txt` at start (and
 * panics without it), which a module-cache copy lacks, so we write it.
 *
 * Run directly (`tsx infra/local/ferretdb-build.ts`) to pre-build, as CI does,
 * so the ~80 s first build is not spent inside a test's time limit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dataPath } from './paths.js';
import { runCommand, which } from './proc.js';

/** The FerretDB release we build; 1.x is the last line with the SQLite backend. */
export const FERRETDB_VERSION = 'v1.24.2';
const MODULE = 'github.com/FerretDB/FerretDB';

/** Where the built binary lives. */
export function ferretDbBinaryPath(): string {
  return dataPath('bin', 'ferretdb');
}

/** Go's module cache encodes upper-case letters as `!` + lower-case. */
function escapeModulePath(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/**
 * Returns the path of a FerretDB binary, building it when absent. Throws an
 * error that says what is missing (Go, the module proxy, a compile error).
 */
export async function ensureFerretDb(log: (line: string) => void = () => {}): Promise<string> {
  const out = ferretDbBinaryPath();
  if (fs.existsSync(out)) return out;
  const go = which('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) throw new Error('Go is not installed (no `go` on PATH), so FerretDB cannot be built');

  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  const work = dataPath('build', `ferretdb-${process.pid}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    log(`building FerretDB ${FERRETDB_VERSION} with ${go} (first time only, about 1-2 minutes)…`);
    const mod = path.join(work, 'fetch');
    fs.mkdirSync(mod);
    await runCommand(go, ['mod', 'init', 'ferretdb.fetch'], { cwd: mod, env, timeoutMs: 30_000 });
    await runCommand(go, ['get', `${MODULE}@${FERRETDB_VERSION}`], { cwd: mod, env, timeoutMs: 10 * 60_000 });
    const cache = (await runCommand(go, ['env', 'GOMODCACHE'], { env, timeoutMs: 30_000 })).output.trim();
    const source = path.join(cache, `${escapeModulePath(MODULE)}@${FERRETDB_VERSION}`);
    if (!fs.existsSync(source)) throw new Error(`go get succeeded but ${source} is missing`);

    const src = path.join(work, 'src');
    fs.cpSync(source, src, { recursive: true });
    makeWritable(src);
    fs.writeFileSync(path.join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const tmp = path.join(work, 'ferretdb');
    await runCommand(go, ['build', '-o', tmp, './cmd/ferretdb'], { cwd: src, env, timeoutMs: 15 * 60_000 });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // rename is atomic: a concurrent build simply replaces ours with an identical binary.
    fs.renameSync(tmp, out);
    log(`built ${out}`);
    return out;
  } catch (err) {
    throw new Error(`could not build FerretDB ${FERRETDB_VERSION}: ${(err as Error).message}`);
  } finally {
    // The module cache is read-only; the copy was made writable so it can be removed.
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function makeWritable(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      fs.chmodSync(p, 0o755);
      makeWritable(p);
    } else if (entry.isFile()) {
      fs.chmodSync(p, 0o644);
    }
  }
  fs.chmodSync(dir, 0o755);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureFerretDb((line) => console.log(line)).then(
    (bin) => console.log(`FerretDB ${FERRETDB_VERSION}: ${bin}`),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
