/**
 * Child processes for local servers (database, Redis, build tools): finding a
 * binary on PATH, running a command to completion with a time limit, and
 * running a long-lived server whose output goes to a log file and whose exit
 * we can await. Servers run in their own process group, so a Ctrl-C in the
 * terminal reaches only `npm start`, which then stops them in order.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Full path of an executable named `name` on PATH, or undefined. */
export function which(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True while a process with this pid exists (EPERM means it exists but is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a live process (Linux `/proc`), or '' when unknown. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a finished command printed, and how it ended. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Runs a command to completion, capturing stdout and stderr together. Kills
 * it (and its process group) after `timeoutMs`, so a tool waiting on the
 * network can never hang a start or a test run. Rejects on a non-zero exit
 * with the last lines of output in the message.
 */
export function runCommand(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; echo?: boolean; uid?: number; gid?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
      if (opts.echo) process.stderr.write(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          killGroup(child, 'SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, output };
      if (code === 0) return resolve(result);
      const why = timedOut ? `timed out after ${opts.timeoutMs} ms` : `exited with ${signal ?? `code ${code}`}`;
      reject(new Error(`\`${[command, ...args].join(' ')}\` ${why}:\n${tail(output, 25)}`));
    });
  });
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * A long-running server process: output appended to `logFile` (and the last
 * lines kept for error messages), `exited` resolves when it ends, `stop()`
 * sends SIGTERM, waits, and falls back to SIGKILL.
 */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private recent = '';
  private ended = false;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    opts: SpawnOptions = {},
  ) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    log.write(`\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    this.child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const collect = (chunk: Buffer) => {
      log.write(chunk);
      this.recent = (this.recent + chunk.toString()).slice(-8_000);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.recent += `\n${err.message}`;
        this.ended = true;
        log.end();
        resolve({ code: null, signal: null });
      });
      this.child.once('close', (code, signal) => {
        this.ended = true;
        log.end();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True once the process has ended. */
  get hasExited(): boolean {
    return this.ended;
  }

  /** The last lines the process printed (for error messages). */
  lastOutput(lines = 15): string {
    return tail(this.recent, lines);
  }

  /**
   * Sends `signal` (default SIGTERM; PostgreSQL wants SIGINT for a fast
   * shutdown) to the process group, waits up to `graceMs`, then SIGKILL.
   */
  async stop(graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.ended) return;
    killGroup(this.child, signal);
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
