/**
 * A Prometheus histogram read from a service's `/metrics`, before and after
 * a stretch of work: how many observations fell into each bucket in
 * between, and the quantiles those buckets allow. A bucket only bounds a
 * quantile from above, so a quantile is reported as the upper bound of the
 * bucket it falls in ("≤ 50 ms").
 */

/** Cumulative bucket counts (`le` in seconds → count), summed over every label set of the metric. */
export type Buckets = Map<number, number>;

/** Parses `<name>_bucket{…le="…"} N` lines of a Prometheus text exposition. */
export function parseBuckets(text: string, name: string): Buckets {
  const buckets: Buckets = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The metric's buckets, summed over several processes' `/metrics` URLs. */
export async function readBuckets(metricsUrls: string[], name: string): Promise<Buckets> {
  const sum: Buckets = new Map();
  for (const url of metricsUrls) {
    for (const [le, n] of parseBuckets(await (await fetch(url)).text(), name)) sum.set(le, (sum.get(le) ?? 0) + n);
  }
  return sum;
}

/** Observations between two readings, and the upper bounds (ms) of the buckets holding p50 and p99. */
export function bucketQuantiles(before: Buckets, after: Buckets): { count: number; p50Ms: number; p99Ms: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => ({ le, n: (after.get(le) ?? 0) - (before.get(le) ?? 0) }));
  const count = delta.at(-1)?.n ?? 0;
  const at = (q: number) => {
    const hit = delta.find((d) => d.n >= q * count);
    return count === 0 || !hit ? Number.NaN : hit.le * 1000;
  };
  return { count, p50Ms: at(0.5), p99Ms: at(0.99) };
}
