/** Results: percentiles, tables, the machine, and the files under bench/results/. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderChart, type Chart } from './charts.js';

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
  /** Distributions drawn as SVG beside the tables (charts.ts). */
  charts?: Chart[];
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

/** The file name of a result's files: `<name>-<date>` (`:` left out, for every file system). */
const stem = (r: BenchResult, info: RunInfo) => `${r.name}-${info.date.replace(/[:]/g, '-').replace(/\..*$/, '')}`;
const chartFile = (r: BenchResult, info: RunInfo, c: Chart) => `${stem(r, info)}-${c.name}.svg`;

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
    `- parameters: ${Object.entries(r.parameters).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`,
    '',
  ];
  for (const t of r.tables) {
    if (t.title) out.push(`**${t.title}**`, '');
    out.push(markdownTable(t), '');
  }
  if (r.notes.length) out.push(...r.notes.map((n) => `- ${n}`), '');
  for (const c of r.charts ?? []) out.push(`![${c.title}](${chartFile(r, info, c)})`, '');
  return out.join('\n');
}

/** A result's JSON file: the run's facts and the benchmark's result, which {@link writeLatest} reads back. */
type ResultFile = RunInfo & BenchResult;

/**
 * Writes `<name>-<date>.json`, `.md` and one `.svg` per chart for one
 * benchmark, into `dir` (default bench/results); returns the JSON file's path.
 */
export async function writeResult(r: BenchResult, info: RunInfo, dir = RESULTS_DIR): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file: ResultFile = { ...info, ...r };
  const json = path.join(dir, `${stem(r, info)}.json`);
  fs.writeFileSync(json, `${JSON.stringify(file, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `${stem(r, info)}.md`), `# Benchmark: ${r.name}\n\n${resultMarkdown(r, info)}`);
  for (const c of r.charts ?? []) fs.writeFileSync(path.join(dir, chartFile(r, info, c)), await renderChart(c));
  return json;
}

/**
 * Writes `latest.md` (beside the JSON files) from the JSON files of one run,
 * so it says exactly what those files hold and is never put together by hand.
 */
export function writeLatest(jsonFiles: string[], run: RunInfo): string {
  const sections = jsonFiles.map((f) => {
    const { name, title, description, parameters, tables, notes, data, ok, charts, ...info } = JSON.parse(fs.readFileSync(f, 'utf8')) as ResultFile;
    return resultMarkdown({ name, title, description, parameters, tables, notes, data, ok, ...(charts ? { charts } : {}) }, info);
  });
  const out = path.join(path.dirname(jsonFiles[0] ?? path.join(RESULTS_DIR, 'x')), 'latest.md');
  const body = [`# Latest benchmark run`, '', `Run at ${run.date} on git ${run.gitSha}; written by \`npm run bench\` from the JSON files beside it.`, '', ...sections].join('\n');
  fs.writeFileSync(out, body);
  return out;
}
