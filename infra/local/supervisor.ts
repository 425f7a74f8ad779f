/**
 * Keeps one service process running for `npm start`: spawns
 * `node --import tsx <entry>`, prefixes each output line with the service
 * name, and restarts the process when it ends without being asked to, with
 * backoff (250 ms doubling to 5 s; back to 250 ms once it has stayed up for
 * 30 s). A `kill -9` of a subgraph is thus healed within a few seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { REPO_ROOT } from './paths.js';
import { sleep } from './proc.js';

export interface SupervisorOptions {
  name: string;
  /** Entry file relative to the repository root. */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Width the name is padded to in output prefixes. */
  prefixWidth?: number;
  /** Called with the new pid after every (re)start. */
  onSpawn?: (pid: number) => void;
  /** Polled after a restart, to report when the service serves again. */
  readyUrl?: string;
  /** Backoff bounds, overridable for tests. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  healthyAfterMs?: number;
}

/** A supervised service; see the module comment. */
export class Supervisor {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  /** How many times the process was restarted after an unexpected exit. */
  restarts = 0;

  constructor(private readonly opts: SupervisorOptions) {
    this.backoffMs = opts.minBackoffMs ?? 250;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private get prefix(): string {
    return `[${this.opts.name}]`.padEnd((this.opts.prefixWidth ?? this.opts.name.length) + 2) + ' ';
  }

  /** Prints a line with this service's prefix. */
  say(line: string): void {
    process.stdout.write(`${this.prefix}${line}\n`);
  }

  /** Starts the process (and keeps it running until {@link stop}). */
  start(): void {
    if (this.stopping) return;
    const child = spawn(process.execPath, ['--import', 'tsx', this.opts.entry], {
      cwd: REPO_ROOT,
      env: this.opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a terminal Ctrl-C reaches only `npm start`, which stops services in order.
      detached: true,
    });
    this.child = child;
    const startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      readline.createInterface({ input: stream }).on('line', (line) => this.say(line));
    }
    if (child.pid !== undefined) this.opts.onSpawn?.(child.pid);
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => this.say(`could not start: ${err.message}`));
      child.once('close', (code, signal) => {
        resolve();
        if (this.stopping) return;
        const upMs = Date.now() - startedAt;
        if (upMs >= (this.opts.healthyAfterMs ?? 30_000)) this.backoffMs = this.opts.minBackoffMs ?? 250;
        const how = signal ? `was killed by ${signal}` : code === 0 ? 'exited (code 0) without being asked to' : `crashed (exit code ${code})`;
        this.say(`${how}; restarting in ${this.backoffMs} ms`);
        const diedAt = Date.now();
        this.restartTimer = setTimeout(() => {
          this.restarts++;
          this.start();
          if (this.opts.readyUrl) void this.reportReady(this.opts.readyUrl, diedAt);
        }, this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 5_000);
      });
    });
  }

  private async reportReady(url: string, since: number): Promise<void> {
    const pid = this.pid;
    if (await waitForHttpOk(url, 60_000, () => this.stopping || this.pid !== pid)) {
      this.say(`serving again ${Date.now() - since} ms after it went down`);
    }
  }

  /** Stops for good: SIGTERM, wait up to `graceMs`, then SIGKILL the process group. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, 'SIGTERM');
    const killed = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (killed) {
      this.say(`did not exit within ${graceMs} ms of SIGTERM; killing it`);
      signalGroup(child, 'SIGKILL');
      await this.exited;
    }
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Polls `url` until it answers 200 or `timeoutMs` passes (or `giveUp()`); true when it did. */
export async function waitForHttpOk(url: string, timeoutMs: number, giveUp: () => boolean = () => false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !giveUp()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  return false;
}
