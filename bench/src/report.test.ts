/**
 * A run's files: the JSON, the markdown and the SVG charts of each
 * benchmark, and `latest.md` written from the JSON (never by hand).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { latencyBins } from './charts.js';
import { machine, writeLatest, writeResult, type BenchResult, type RunInfo } from './report.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const info: RunInfo = { date: '2026-12-03T10:20:30.000Z', machine: machine(), gitSha: 'abc', loadAverageBefore: [0, 0, 0] };

function result(name: string, fast: number[], slow: number[]): BenchResult {
  return {
    name,
    title: `${name} title`,
    description: 'what was measured',
    parameters: { n: fast.length },
    tables: [{ columns: ['target', 'p50 ms'], rows: [['fast target', 2], ['slow target', 900]] }],
    notes: ['a note'],
    data: {},
    ok: true,
    charts: [
      { kind: 'latency-histogram', name: 'latency', title: 'answer latency', series: [{ target: 'fast target', bins: latencyBins(fast) }, { target: 'slow target', bins: latencyBins(slow) }] },
      { kind: 'throughput', name: 'throughput', title: 'per second', unit: 'answers/s', points: [{ target: 'fast target', concurrency: 10, perSecond: 90 }, { target: 'fast target', concurrency: 50, perSecond: 120 }] },
    ],
  };
}

describe('latencyBins', () => {
  it('puts each latency in one log-spaced bin, and only non-empty bins', () => {
    const bins = latencyBins([0.01, 1, 1.1, 5, 5, 5, 2000, Number.NaN]);
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(7);
    for (const b of bins) expect(b.toMs).toBeGreaterThan(b.fromMs);
    const five = bins.find((b) => b.fromMs <= 5 && 5 < b.toMs);
    expect(five?.count).toBe(3);
    expect(bins.at(-1)).toMatchObject({ count: 1 });
    expect(bins.at(-1)!.fromMs).toBeLessThanOrEqual(2000);
    expect(bins.at(-1)!.toMs).toBeGreaterThan(2000);
  });
});

describe('result files', () => {
  it('writes JSON, markdown and one SVG per chart; latest.md comes from the JSON', async () => {
    const a = await writeResult(result('alpha', [1, 2, 2, 3], [800, 900, 1200]), info, dir);
    const b = await writeResult(result('beta', [4, 5], [40]), info, dir);
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(
      expect.arrayContaining(['alpha-2026-12-03T10-20-30.json', 'alpha-2026-12-03T10-20-30.md', 'alpha-2026-12-03T10-20-30-latency.svg', 'alpha-2026-12-03T10-20-30-throughput.svg']),
    );
    const svg = fs.readFileSync(path.join(dir, 'alpha-2026-12-03T10-20-30-latency.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('fast target');
    expect(svg).toContain('slow target');
    expect(svg).toContain('latency (ms, log scale)');
    expect(fs.readFileSync(path.join(dir, 'alpha-2026-12-03T10-20-30-throughput.svg'), 'utf8')).toContain('answers/s');

    // latest.md holds what the JSON files hold: change a JSON file and latest.md follows.
    const json = JSON.parse(fs.readFileSync(b, 'utf8')) as BenchResult;
    json.tables[0]!.rows[0]![1] = 4242;
    fs.writeFileSync(b, JSON.stringify(json));
    const latest = fs.readFileSync(writeLatest([a, b], info), 'utf8');
    expect(latest).toContain('## alpha title');
    expect(latest).toContain('## beta title');
    expect(latest).toContain('| fast target | 4242 |');
    expect(latest).toContain('![answer latency](alpha-2026-12-03T10-20-30-latency.svg)');
    expect(latest).toContain('from the JSON files beside it');
  });
});
