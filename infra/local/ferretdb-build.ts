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
 * One patch, {@link applyAtomicWritePatch}: FerretDB 1.24 runs an update as
 * "query matching documents, then write each back by _id" with nothing held
 * in between, so two concurrent conditional updates of one document can both
 * match and the second silently overwrites the first (measured here: 200
 * concurrent `{stock: {$gte: 1}} → $inc -1` on stock 20 all "succeeded" and
 * left stock 16). MongoDB guarantees single-document atomicity and all our
 * invariants (stock never below zero, state transitions, outbox) rely on it.
 * The patch serializes the write commands (insert, update, findAndModify,
 * delete) in the server with one mutex; SQLite has a single writer anyway, so
 * it costs no throughput (the same probe then gives exactly 20 and stock 0,
 * and runs faster). Reads are not affected.
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
/** Bumped whenever the patches below change, so an older build is rebuilt. */
export const PATCH_LEVEL = 'atomic-writes-1';
const MODULE = 'github.com/FerretDB/FerretDB';

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
    applyAtomicWritePatch(src);
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

const WRITE_COMMANDS = ['msg_insert', 'msg_update', 'msg_findandmodify', 'msg_delete'];

/**
 * Makes each write command hold one server-wide mutex from its query to its
 * write, giving MongoDB's single-document atomicity (see the file comment).
 * Fails loudly if the source no longer looks as expected.
 */
export function applyAtomicWritePatch(src: string): void {
  const handler = path.join(src, 'internal', 'handler');
  fs.writeFileSync(
    path.join(handler, 'write_lock.go'),
    [
      'package handler',
      '',
      'import "sync"',
      '',
      '// writeMu serializes write commands so that each single-document update is',
      '// atomic, as MongoDB guarantees (patch applied by the rental project build).',
      'var writeMu sync.Mutex',
      '',
    ].join('\n'),
  );
  for (const name of WRITE_COMMANDS) {
    const file = path.join(handler, `${name}.go`);
    const text = fs.readFileSync(file, 'utf8');
    const signature = /^(func \(h \*Handler\) Msg\w+\(connCtx context\.Context, msg \*wire\.OpMsg\) \(\*wire\.OpMsg, error\) \{)$/m;
    if (!signature.test(text)) throw new Error(`FerretDB source changed: no command handler found in ${name}.go`);
    fs.writeFileSync(file, text.replace(signature, '$1\n\twriteMu.Lock()\n\tdefer writeMu.Unlock()\n'));
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
