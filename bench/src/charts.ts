/**
 * Charts beside the results tables: a benchmark puts a {@link Chart} (the
 * figures, already binned) into its result, the JSON keeps it, and
 * {@link renderChart} draws it as SVG with Vega-Lite (headless: Vega's SVG
 * renderer needs no browser or canvas; text widths are estimated).
 *
 * Latency histograms use logarithmic bins (10 per decade) on a log axis, so
 * a 2 ms p50 and a 2 s tail show in one picture; each target gets its own
 * row, counts as a share of that target's answers so targets with different
 * throughput compare.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One bin of a latency histogram: answers with `fromMs` ≤ latency < `toMs`. */
export interface LatencyBin {
  fromMs: number;
  toMs: number;
  count: number;
}

/** Latency distribution of each target in one benchmark. */
export interface LatencyHistogram {
  kind: 'latency-histogram';
  /** File name part: `<bench>-<date>-<name>.svg`. */
  name: string;
  title: string;
  series: Array<{ target: string; bins: LatencyBin[] }>;
}

/** Throughput at each concurrency, a line per target. */
export interface ThroughputCurve {
  kind: 'throughput';
  name: string;
  title: string;
  /** What is counted per second (axis title), e.g. "confirmed reservations/s". */
  unit: string;
  points: Array<{ target: string; concurrency: number; perSecond: number }>;
}

export type Chart = LatencyHistogram | ThroughputCurve;

const BINS_PER_DECADE = 10;

/**
 * Log-spaced histogram of latencies (ms). Bins below 0.1 ms are folded into
 * the first; empty bins are left out.
 */
export function latencyBins(samples: readonly number[]): LatencyBin[] {
  const counts = new Map<number, number>();
  for (const v of samples) {
    if (!Number.isFinite(v)) continue;
    const i = Math.floor(Math.log10(Math.max(v, 0.1)) * BINS_PER_DECADE);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  const edge = (i: number) => Number((10 ** (i / BINS_PER_DECADE)).toPrecision(3));
  return [...counts.entries()].sort(([a], [b]) => a - b).map(([i, count]) => ({ fromMs: edge(i), toMs: edge(i + 1), count }));
}

function histogramSpec(chart: LatencyHistogram): TopLevelSpec {
  const values = chart.series.flatMap(({ target, bins }) => {
    const total = bins.reduce((s, b) => s + b.count, 0) || 1;
    return bins.map((b) => ({ target, from: b.fromMs, to: b.toMs, share: b.count / total }));
  });
  return {
    title: chart.title,
    data: { values },
    facet: { row: { field: 'target', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelLimit: 260 } } },
    spec: {
      width: 520,
      height: 90,
      mark: { type: 'rect', tooltip: true },
      encoding: {
        x: { field: 'from', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
        x2: { field: 'to' },
        y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '%' } },
        y2: { datum: 0 },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

function throughputSpec(chart: ThroughputCurve): TopLevelSpec {
  return {
    title: chart.title,
    data: { values: chart.points },
    width: 520,
    height: 260,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'concurrency', type: 'quantitative', title: 'concurrency (clients at once)' },
      y: { field: 'perSecond', type: 'quantitative', title: chart.unit },
      color: { field: 'target', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } },
    },
  };
}

/** The chart as an SVG document. */
export async function renderChart(chart: Chart): Promise<string> {
  const spec = chart.kind === 'latency-histogram' ? histogramSpec(chart) : throughputSpec(chart);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
