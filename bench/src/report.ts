/** Results: percentiles, tables, the machine, and the files under bench/results/. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface Table {
  title?: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface BenchResult {
  name: string;
  title: string;
  /** What was measured and how, in a sentence or two. */
  description: string;
  parameters: Record<string, unknown>;
  tables: Table[];
  notes: string[];
  /** The figures, machine-readable. */
  data: Record<string, unknown>;
  /** False when the benchmark could not measure (the reason is in notes). */
  ok: boolean;
}

/** The median (the mean of the middle two for an even count; NaN for none): rounds' figures are summarized with it. */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile of an unsorted sample (ms). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(values: number[]) {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN,
  };
}

export const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function loadAverage(): number[] {
  return os.loadavg().map((v) => Number(v.toFixed(2)));
}

export function gitSha(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${sha} (working tree has uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

export function markdownTable(t: Table): string {
  const lines = [`| ${t.columns.join(' | ')} |`, `|${t.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of t.rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** Plain-text table for the terminal. */
export function textTable(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(String))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [fmt(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

export interface RunInfo {
  date: string;
  machine: ReturnType<typeof machine>;
  gitSha: string;
  loadAverageBefore: number[];
  loadAverageAfter?: number[];
  servers?: { mongo: string; redis: string };
  /** Non-default service settings of the run. */
  settings?: string;
}

export function resultMarkdown(r: BenchResult, info: RunInfo): string {
  const m = info.machine;
  const out = [
    `## ${r.title}`,
    '',
    r.description,
    '',
    `- date: ${info.date}; git: ${info.gitSha}`,
    `- machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Node ${m.node}, ${m.platform}`,
    `- load average (1/5/15 min) before: ${info.loadAverageBefore.join(' / ')}${info.loadAverageAfter ? `; after: ${info.loadAverageAfter.join(' / ')}` : ''}`,
    ...(info.servers ? [`- servers: MongoDB ${info.servers.mongo}; Redis ${info.servers.redis}`] : []),
    ...(info.settings ? [`- service settings: ${info.settings}`] : []),
    `- parameters: ${Object.entries(r.parameters).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}`,
    '',
  ];
  for (const t of r.tables) {
    if (t.title) out.push(`**${t.title}**`, '');
    out.push(markdownTable(t), '');
  }
  if (r.notes.length) out.push(...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** Writes `<name>-<date>.md|json` for one benchmark; returns the markdown. */
export function writeResult(r: BenchResult, info: RunInfo): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = info.date.replace(/[:]/g, '-').replace(/\..*$/, '');
  const md = resultMarkdown(r, info);
  fs.writeFileSync(path.join(RESULTS_DIR, `${r.name}-${stamp}.md`), `# Benchmark: ${r.name}\n\n${md}`);
  fs.writeFileSync(path.join(RESULTS_DIR, `${r.name}-${stamp}.json`), `${JSON.stringify({ ...info, ...r }, null, 2)}\n`);
  return md;
}

export function writeLatest(sections: string[], info: RunInfo): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const body = [`# Latest benchmark run`, '', `Run at ${info.date} on git ${info.gitSha}.`, '', ...sections].join('\n');
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), body);
}
