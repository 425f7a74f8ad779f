/**
 * CPU time of processes, from Linux `/proc`: user + system time, which
 * barely moves with load from other programs (unlike wall-clock time), so
 * "CPU ms per operation" compares runs on a shared, noisy machine.
 *
 * A process tree's time is the root's own, its reaped children's (the
 * kernel adds those to the parent's `cutime`/`cstime` when it waits for
 * them) and every live descendant's: a PostgreSQL server's backends, a
 * FerretDB process, a Node service.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux x86). */
const TICKS_PER_SEC = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime, ticks */
  own: number;
  /** cutime + cstime, ticks */
  reaped: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  return {
    pid,
    ppid: Number(fields[1]),
    own: Number(fields[11]) + Number(fields[12]),
    reaped: Number(fields[13]) + Number(fields[14]),
  };
}

function allStats(): Stat[] {
  const stats: Stat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.push(s);
  }
  return stats;
}

/** CPU ms used so far by each root's process tree (0 for a root that is gone). */
export function treeCpuMs(roots: readonly number[]): number[] {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  return roots.map((root) => {
    const top = byPid.get(root);
    if (!top) return 0;
    let ticks = top.own + top.reaped;
    const stack = [...(children.get(root) ?? [])];
    while (stack.length > 0) {
      const s = stack.pop()!;
      ticks += s.own;
      stack.push(...(children.get(s.pid) ?? []));
    }
    return (ticks * 1000) / TICKS_PER_SEC;
  });
}

/** A named set of process trees whose CPU time is read before and after a measured run. */
export class CpuMeter {
  private start: number[] = [];

  constructor(readonly processes: ReadonlyArray<{ name: string; pid: number }>) {}

  /** Takes the starting reading. */
  begin(): void {
    this.start = treeCpuMs(this.processes.map((p) => p.pid));
  }

  /** CPU ms each process tree used since `begin()`. */
  end(): Array<{ name: string; cpuMs: number }> {
    const now = treeCpuMs(this.processes.map((p) => p.pid));
    return this.processes.map((p, i) => ({ name: p.name, cpuMs: now[i]! - (this.start[i] ?? 0) }));
  }
}
