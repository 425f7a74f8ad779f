/**
 * The "downloaded mongod" step of the database choice (mongo.ts): a real
 * mongod from mongodb-memory-server-core, downloaded once into its usual cache
 * (`~/.cache/mongodb-binaries`, or `MONGOMS_DOWNLOAD_DIR`), for a machine with
 * internet but no mongod and no Go.
 *
 * Where nothing can be downloaded (our machines reach only package
 * registries), the step must cost next to nothing, because every `npm start`
 * and every test run goes through it:
 *
 * - A binary already in the cache is used without touching the network.
 * - Otherwise the archive's URL gets a HEAD request, all of it (package load
 *   included) under one deadline of {@link PROBE_DEADLINE_MS}. Only when the
 *   host answers does the download start, in a child process killed after
 *   {@link DOWNLOAD_TIMEOUT_MS}.
 * - A failed probe or download is written to `.data/mongod-download.json`
 *   (time, URL, reason). For {@link OFFLINE_TTL_MS} after that, a start with
 *   the same URL skips the step without any network attempt and says so; a
 *   stale entry, another URL (a mirror set) or a deleted file tries again,
 *   and a successful download removes the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { dataPath, REPO_ROOT } from './paths.js';
import { runCommand } from './proc.js';

/** The package that knows MongoDB's download URLs and cache folders. */
const PKG = 'mongodb-memory-server-core';
/** How long the step may take when no mongod is cached: package load, options and the HEAD probe together. */
export const PROBE_DEADLINE_MS = 1_500;
/** How long the download itself may take once the host answered. */
export const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/**
 * How long a failed attempt is remembered: 6 h, so a day's restarts and test
 * runs on an offline machine pay the probe about twice, and a laptop that
 * comes back online gets the download the same day (or at once, after
 * deleting the file).
 */
export const OFFLINE_TTL_MS = 6 * 60 * 60_000;

/** The remembered failure, `.data/mongod-download.json`. */
export interface OfflineEntry {
  /** When the attempt failed (ISO 8601). */
  at: string;
  /** The archive URL that was tried; another URL is tried afresh. */
  url: string;
  /** Why it failed. */
  reason: string;
}

/** What the step found, for startMongo's reason line and its "nothing available" message. */
export interface MongodDownload {
  /** A mongod binary (cached or just downloaded); undefined when there is none. */
  path?: string;
  /** What happened, one line. */
  why: string;
  /** What would make this step work, for the message when no server at all is available. */
  remedy: string;
}

/** Where a failed attempt is remembered (follows `RENTAL_DATA_DIR`). */
export function offlineCachePath(): string {
  return dataPath('mongod-download.json');
}

/** The remembered failure, when there is a readable one. */
export function readOfflineEntry(file = offlineCachePath()): OfflineEntry | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<OfflineEntry>;
    if (typeof entry.at === 'string' && typeof entry.url === 'string' && typeof entry.reason === 'string') {
      return entry as OfflineEntry;
    }
  } catch {
    // missing or unreadable: as if never tried
  }
  return undefined;
}

function writeOfflineEntry(entry: OfflineEntry, file = offlineCachePath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(entry, null, 2)}\n`);
  fs.renameSync(tmp, file); // atomic: a concurrent start reads the old or the new entry
}

/** The proxy mongodb-memory-server downloads through (the same variables, in its order). */
function downloadProxy(): string | undefined {
  const env = process.env;
  return (
    env['yarn_https-proxy'] ||
    env.yarn_proxy ||
    env['npm_config_https-proxy'] ||
    env.npm_config_proxy ||
    env.https_proxy ||
    env.http_proxy ||
    env.HTTPS_PROXY ||
    env.HTTP_PROXY ||
    undefined
  );
}

/** Rejects after `ms` with `message`; the timer does not keep the process alive. */
function deadline(ms: number, message: string): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), Math.max(0, ms));
    timer.unref();
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** Why a fetch failed, in a few words (`getaddrinfo ENOTFOUND host`, `connect ECONNREFUSED …`, a timeout). */
function fetchFailure(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${PROBE_DEADLINE_MS} ms`;
  return e.cause?.message ?? e.cause?.code ?? e.message;
}

/** HEAD of the archive URL: resolves if the host serves it, else rejects with why. */
async function probe(url: string, timeoutMs: number): Promise<void> {
  const proxy = downloadProxy();
  const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
  let status: number;
  try {
    if (proxy) {
      const undici = await import('undici');
      const dispatcher = new undici.ProxyAgent(proxy);
      try {
        status = (await undici.fetch(url, { method: 'HEAD', signal, dispatcher })).status;
      } finally {
        void dispatcher.close();
      }
    } else {
      status = (await fetch(url, { method: 'HEAD', signal })).status;
    }
  } catch (err) {
    throw new Error(fetchFailure(err), { cause: err });
  }
  if (status === 403 || status === 404) throw new Error(`HTTP ${status}: no such archive (this version and platform are not published)`);
  if (status < 200 || status >= 400) throw new Error(`HTTP ${status}`);
}

/**
 * A mongod binary from mongodb-memory-server-core: the cached one, else a
 * download when the host answers within {@link PROBE_DEADLINE_MS}; a failure
 * is remembered for {@link OFFLINE_TTL_MS} (see the module comment).
 */
export async function downloadedMongod(log: (line: string) => void = () => {}): Promise<MongodDownload> {
  if (process.env.MONGOMS_DISABLE) {
    return { why: 'mongod download disabled by MONGOMS_DISABLE', remedy: 'unset MONGOMS_DISABLE, so mongodb-memory-server can download mongod' };
  }
  const started = Date.now();
  const cacheFile = offlineCachePath();
  // Said relative to the repository (the reason lands in logs and bench results, which must not name this clone's path).
  const inRepo = path.relative(REPO_ROOT, cacheFile);
  const shownCacheFile = inRepo && !inRepo.startsWith('..') && !path.isAbsolute(inRepo) ? inRepo : cacheFile;
  try {
    createRequire(path.join(REPO_ROOT, 'package.json')).resolve(PKG);
  } catch {
    return { why: `${PKG} is not installed`, remedy: `run \`npm install\` (it installs ${PKG}, which downloads mongod)` };
  }

  // Where the binary would be and where it would come from: no network. Under the deadline too.
  const limit = deadline(PROBE_DEADLINE_MS, `it did not work out the download within ${PROBE_DEADLINE_MS} ms`);
  let url: string;
  let version: string;
  let downloadDir: string;
  try {
    const plan = (async () => {
      const { DryMongoBinary } = await import('mongodb-memory-server-core/lib/util/DryMongoBinary.js');
      const { MongoBinaryDownloadUrl } = await import('mongodb-memory-server-core/lib/util/MongoBinaryDownloadUrl.js');
      const opts = await DryMongoBinary.generateOptions({});
      const cached = await DryMongoBinary.locateBinary(opts);
      const archive = cached ? '' : await new MongoBinaryDownloadUrl(opts).getDownloadUrl();
      return { cached, url: archive, version: opts.version, downloadDir: opts.downloadDir };
    })();
    const found = await Promise.race([plan, limit.promise]);
    if (found.cached) {
      limit.clear();
      return { path: found.cached, why: '', remedy: '' };
    }
    ({ url, version, downloadDir } = found);
  } catch (err) {
    limit.clear();
    return {
      why: `${PKG} cannot download mongod for this machine (${(err as Error).message.split('\n')[0]})`,
      remedy: `set MONGOMS_DOWNLOAD_URL to a mongod archive for this machine`,
    };
  }

  const host = new URL(url).origin;
  const remedy =
    `allow downloads from ${host} (or set MONGOMS_DOWNLOAD_MIRROR to a mirror); ` +
    `the last failure is remembered in ${shownCacheFile} for ${OFFLINE_TTL_MS / 3_600_000} h, delete it to retry at once`;
  const entry = readOfflineEntry(cacheFile);
  const age = entry ? Date.now() - Date.parse(entry.at) : Infinity;
  if (entry && entry.url === url && age >= 0 && age < OFFLINE_TTL_MS) {
    limit.clear();
    const until = new Date(Date.parse(entry.at) + OFFLINE_TTL_MS).toISOString();
    return {
      why: `mongod download skipped: cached offline result from ${entry.at} (${entry.reason}), kept until ${until} in ${shownCacheFile}`,
      remedy,
    };
  }

  limit.clear();
  const remaining = PROBE_DEADLINE_MS - (Date.now() - started);
  const probeLimit = deadline(remaining, `no answer within ${PROBE_DEADLINE_MS} ms`);
  try {
    await Promise.race([probe(url, remaining), probeLimit.promise]);
  } catch (err) {
    const reason = `${host} unreachable: ${(err as Error).message}`;
    writeOfflineEntry({ at: new Date().toISOString(), url, reason }, cacheFile);
    return { why: `mongod download gave up after ${Date.now() - started} ms (${reason}); not tried again for ${OFFLINE_TTL_MS / 3_600_000} h`, remedy };
  } finally {
    probeLimit.clear();
  }

  log(`downloading mongod ${version} from ${url} into ${downloadDir} (first time only)…`);
  const script = `require(${JSON.stringify(PKG)}).MongoBinary.getPath().then((p) => console.log('MONGOD=' + p), (e) => { console.error(e && e.message); process.exit(1); })`;
  try {
    const { output } = await runCommand(process.execPath, ['-e', script], { cwd: REPO_ROOT, timeoutMs: DOWNLOAD_TIMEOUT_MS, echo: true });
    const binary = /MONGOD=(.+)/.exec(output)?.[1]?.trim();
    if (!binary || !fs.existsSync(binary)) throw new Error(`it reported no mongod binary:\n${output}`);
    fs.rmSync(cacheFile, { force: true });
    log(`downloaded ${binary}`);
    return { path: binary, why: '', remedy: '' };
  } catch (err) {
    // runCommand's message: the command line, then the child's last lines.
    const [head = '', ...lines] = (err as Error).message.split('\n');
    const said = head.includes('timed out') ? `timed out after ${DOWNLOAD_TIMEOUT_MS} ms` : lines.filter(Boolean).slice(-2).join(' ') || head;
    const reason = `download failed: ${said}`;
    writeOfflineEntry({ at: new Date().toISOString(), url, reason }, cacheFile);
    return { why: `mongod ${reason}; not tried again for ${OFFLINE_TTL_MS / 3_600_000} h`, remedy };
  }
}
