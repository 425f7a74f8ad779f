/**
 * A pid lock file so a second `npm start` cannot start a second set of
 * servers on the same data directories (two FerretDB or two redis-server
 * processes writing the same files would corrupt them). The lock records the
 * holder's pid, its router URL and the pids of the servers it started.
 *
 * A lock whose pid is dead is stale (the holder was killed with SIGKILL, the
 * machine rebooted): it is taken over, and the caller gets the old record so
 * it can stop servers the dead holder left running. The file is created with
 * `link()` from a fully written temp file, so a reader never sees it half
 * written and two starters cannot both create it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from './proc.js';

/** What the lock file says about its holder. */
export interface LockInfo {
  pid: number;
  startedAt: string;
  routerUrl?: string;
  /** Processes the holder started: pid and a string its command line contains. */
  children?: Array<{ name: string; pid: number; match: string }>;
}

/** Thrown when a live process holds the lock. */
export class LockHeldError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockInfo,
  ) {
    super(
      `Another instance is already running (pid ${holder.pid}, started ${holder.startedAt}` +
        `${holder.routerUrl ? `, router ${holder.routerUrl}` : ''}).\n` +
        `Stop it first (Ctrl-C in its terminal, or kill ${holder.pid}); lock file: ${lockFile}`,
    );
    this.name = 'LockHeldError';
  }
}

/** A held lock. */
export interface Lock {
  readonly file: string;
  /** The record of a dead holder we took over, if any. */
  readonly staleHolder?: LockInfo;
  /** Rewrites the record (router URL, child pids) while we hold it. */
  update(patch: Partial<Omit<LockInfo, 'pid'>>): void;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

function readLock(file: string): LockInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomically(file: string, info: LockInfo): string {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  return tmp;
}

/**
 * Takes the lock at `file` for this process, or throws {@link LockHeldError}
 * naming the live holder. `pid` is overridable for tests only.
 */
export function acquireLock(file: string, extra: Partial<Omit<LockInfo, 'pid'>> = {}, pid = process.pid): Lock {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let info: LockInfo = { pid, startedAt: new Date().toISOString(), ...extra };
  let staleHolder: LockInfo | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = writeAtomically(file, info);
    try {
      fs.linkSync(tmp, file);
      fs.unlinkSync(tmp);
      return makeLock(file, () => info, (next) => (info = next), staleHolder);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(file);
    if (holder && holder.pid !== pid && isAlive(holder.pid)) throw new LockHeldError(file, holder);
    // Dead holder (or an unreadable file): take it over, unless someone else just did.
    const again = readLock(file);
    if (again && holder && again.pid !== holder.pid) continue;
    staleHolder = holder ?? staleHolder;
    fs.rmSync(file, { force: true });
  }
  throw new Error(`could not take the lock ${file} (it keeps changing hands)`);
}

function makeLock(file: string, get: () => LockInfo, set: (i: LockInfo) => void, staleHolder?: LockInfo): Lock {
  let released = false;
  return {
    file,
    staleHolder,
    update(patch) {
      if (released) return;
      const next = { ...get(), ...patch };
      set(next);
      fs.renameSync(writeAtomically(file, next), file);
    },
    release() {
      if (released) return;
      released = true;
      if (readLock(file)?.pid === get().pid) fs.rmSync(file, { force: true });
    },
  };
}
