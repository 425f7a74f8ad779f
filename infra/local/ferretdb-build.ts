/**
 * Builds FerretDB 1.24 (a MongoDB-compatible server on PostgreSQL or SQLite)
 * from source with Go, because no MongoDB server package exists in Debian and
 * our machines reach only package registries. The binary lands in
 * `.data/bin/ferretdb-<version>-<patch hash>` and is reused by every later
 * start and test run.
 *
 * Why not `go install …@v1.24.2`: the module proxy here refuses the version
 * list request that `go install` makes; `go get` inside a throwaway module
 * works, so we fetch the source that way and build it from the module cache.
 * FerretDB reads its version from `build/version/version.txt` at start (and
 * panics without it), which a module-cache copy lacks, so we write it.
 *
 * Our patch, `ferretdb/rental.patch` (applied with `git apply`), changes
 * two things; the tests in this folder check both on the running server:
 *
 * - **Single-document atomicity** (`internal/handler/write_locks.go`).
 *   FerretDB 1.24 runs an update as "query matching documents, then write
 *   each back by _id" with nothing held in between, so two concurrent
 *   conditional updates of one document can both match and the second
 *   silently overwrites the first (measured here: 200 concurrent
 *   `{stock: {$gte: 1}} → $inc -1` on stock 20 all "succeeded" and left
 *   stock 16). MongoDB guarantees single-document atomicity and all our
 *   invariants (stock never below zero, state transitions, outbox) rely on
 *   it. Each update, delete and findAndModify statement holds a lock from
 *   its query to its write: the document's when the filter names one `_id`,
 *   else its collection's (`atomicity.test.ts`).
 * - **Index-served filters on PostgreSQL** (`internal/backends/postgresql/
 *   pushdown_index.go`). Stock 1.24 sends `_jsonb->$1 @> $2`, the field name
 *   a bind parameter, which no index serves: every find scanned its table.
 *   The patch writes top-level field names as literals and compares with
 *   `=`, `IN`, `<`, `<=`, `>`, `>=` (`index-use.test.ts`).
 * - **Less work per command**, from a CPU profile of the server under
 *   conditional updates (`go tool pprof` on its `/debug/pprof/profile`): a
 *   one-document update or a one-statement insert runs without an explicit
 *   transaction (one round trip to PostgreSQL instead of BEGIN, statement,
 *   COMMIT), and the lifetime tracking of iterators (a pprof sample with a
 *   stack and a finalizer each, a leak detector for FerretDB's developers:
 *   12% of the CPU) runs only in debug builds. Measured: 0.58 → 0.31 ms of
 *   server CPU per update, 1,040 → 1,580 updates/s at concurrency 20.
 *
 * Run directly (`tsx infra/local/ferretdb-build.ts`) to pre-build, as CI does,
 * so the ~80 s first build is not spent inside a test's time limit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataPath } from './paths.js';
import { runCommand, which } from './proc.js';

/** The FerretDB release we build; 1.x is the last line with the SQLite backend. */
export const FERRETDB_VERSION = 'v1.24.2';
/** Our patch of FerretDB's source (a unified diff, applied with `git apply`). */
export const PATCH_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ferretdb', 'rental.patch');
/** The patch's content hash: a changed patch names a new binary, so an older build is never reused. */
export const PATCH_LEVEL = createHash('sha256').update(fs.readFileSync(PATCH_FILE)).digest('hex').slice(0, 12);
const MODULE = 'github.com/FerretDB/FerretDB';
/** The oldest Go that builds {@link FERRETDB_VERSION}: its go.mod says `go 1.24`, and we build with GOTOOLCHAIN=local. */
export const GO_MIN_VERSION = '1.24';

/**
 * Go is missing or too old, so FerretDB cannot be built: startMongo's
 * message then says to install Go (rather than to fix a failed build).
 */
export class GoUnavailableError extends Error {
  override name = 'GoUnavailableError';
}

/**
 * The `go` to build with: on PATH, else `$GOROOT/bin/go` (GOROOT defaults to
 * /usr/local/go, where go.dev's archive is unpacked), or undefined.
 */
export function findGo(): string | undefined {
  const inGoroot = path.join(process.env.GOROOT || '/usr/local/go', 'bin', 'go');
  return which('go') ?? (fs.existsSync(inGoroot) ? inGoroot : undefined);
}

/** True when a Go version (`1.26.8`, `1.24`, `1.24rc1`) is at least `min` (`1.24`). */
export function goVersionAtLeast(version: string, min = GO_MIN_VERSION): boolean {
  const parse = (v: string) => (/^(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
  const [major = 0, minor = 0] = parse(version);
  const [minMajor = 0, minMinor = 0] = parse(min);
  return major > minMajor || (major === minMajor && minor >= minMinor);
}

/** Where the built binary lives. */
export function ferretDbBinaryPath(): string {
  return dataPath('bin', `ferretdb-${FERRETDB_VERSION}-${PATCH_LEVEL}`);
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
  const go = findGo();
  if (!go) throw new GoUnavailableError('Go is not installed (no `go` on PATH or in $GOROOT/bin), so FerretDB cannot be built');

  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  const said = (await runCommand(go, ['version'], { env, timeoutMs: 30_000 }).catch((err: Error) => ({ output: err.message }))).output;
  const version = /go(\d+\.\d+[^\s]*)/.exec(said)?.[1];
  if (!version || !goVersionAtLeast(version)) {
    throw new GoUnavailableError(
      `${go} is Go ${version ?? `of unknown version (${said.trim().split('\n')[0]})`}; FerretDB ${FERRETDB_VERSION} needs Go ≥ ${GO_MIN_VERSION}`,
    );
  }
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
    await applyPatch(src, env);
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
    try {
      fs.rmdirSync(path.dirname(work)); // `.data/build`, unless another build is using it
    } catch {
      // not empty: a concurrent build
    }
  }
}

/**
 * Applies {@link PATCH_FILE} to the source copy in `src`. `git apply` works
 * outside a repository; GIT_CEILING_DIRECTORIES keeps it from finding ours
 * (the copy lives under `.data/`, inside this repository's work tree, where
 * it would take paths as relative to our root and skip them).
 */
export async function applyPatch(src: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await runCommand('git', ['apply', '--whitespace=nowarn', PATCH_FILE], {
      cwd: src,
      env: { ...env, GIT_CEILING_DIRECTORIES: path.dirname(src) },
      timeoutMs: 60_000,
    });
  } catch (err) {
    throw new Error(`FerretDB source changed: ${path.basename(PATCH_FILE)} does not apply (${(err as Error).message})`);
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
