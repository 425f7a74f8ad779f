/** Bucket deltas and the quantile bounds they give. */
import { describe, expect, it } from 'vitest';
import { bucketQuantiles, parseBuckets } from './prom-histogram.js';

const exposition = (counts: [string, number][], label = 'a') =>
  counts.map(([le, n]) => `m_seconds_bucket{x="${label}",le="${le}"} ${n}`).join('\n') + '\nm_seconds_count 0\nother_bucket{le="1"} 99\n';

describe('prom histogram', () => {
  it('sums label sets, subtracts the earlier reading and bounds p50 and p99 by their buckets', () => {
    const before = parseBuckets(exposition([['0.01', 5], ['0.1', 5], ['1', 5], ['+Inf', 5]]), 'm_seconds');
    const afterText =
      exposition([['0.01', 55], ['0.1', 100], ['1', 104], ['+Inf', 105]]) + exposition([['0.01', 0], ['0.1', 0], ['1', 0], ['+Inf', 0]], 'b');
    const q = bucketQuantiles(before, parseBuckets(afterText, 'm_seconds'));
    expect(q.count).toBe(100);
    expect(q.p50Ms).toBe(10);
    expect(q.p99Ms).toBe(1000);
  });

  it('has no quantiles without observations', () => {
    const b = parseBuckets(exposition([['0.1', 3], ['+Inf', 3]]), 'm_seconds');
    expect(bucketQuantiles(b, b)).toEqual({ count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN });
  });
});
