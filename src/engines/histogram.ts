// Cumulative Prometheus histograms: summed over label sets, differenced between two scrapes,
// and read as quantiles the way PromQL's histogram_quantile does (linear within a bucket).
import type { Sample } from './prom-text.js';

/** Cumulative counts by upper bound, bounds ascending, the last one +Inf. */
export interface Buckets {
  le: number[];
  counts: number[];
}

/** The `<name>_bucket` series summed over every label set but `le`; undefined without a +Inf bucket. */
export function bucketsOf(samples: Sample[] | undefined): Buckets | undefined {
  if (!samples || samples.length === 0) return undefined;
  const byLe = new Map<number, number>();
  for (const s of samples) {
    const raw = s.labels.le;
    if (raw === undefined) continue;
    const le = raw === '+Inf' ? Infinity : Number(raw);
    if (Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (!byLe.has(Infinity)) return undefined;
  const le = [...byLe.keys()].sort((a, b) => a - b);
  return { le, counts: le.map((b) => byLe.get(b)!) };
}

/**
 * Observations between two scrapes of the same histogram. Undefined when the bucket layout
 * changed or any count went down (the engine restarted): no negative counts are ever made up.
 */
export function bucketDelta(now: Buckets, before: Buckets): Buckets | undefined {
  if (now.le.length !== before.le.length) return undefined;
  const counts: number[] = [];
  for (let i = 0; i < now.le.length; i++) {
    if (now.le[i] !== before.le[i]) return undefined;
    const d = now.counts[i] - before.counts[i];
    if (d < 0) return undefined;
    counts.push(d);
  }
  return { le: now.le, counts };
}

/** The q-quantile (0..1) of a cumulative histogram; null when it holds no observation. */
export function quantile(q: number, b: Buckets): number | null {
  const total = b.counts[b.counts.length - 1];
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let i = 0; i < b.le.length; i++) {
    if (b.counts[i] < rank) continue;
    const upper = b.le[i];
    // Past the last finite bound nothing is known but that bound.
    if (upper === Infinity) return i > 0 ? b.le[i - 1] : null;
    const lower = i > 0 ? b.le[i - 1] : Math.min(0, upper);
    const below = i > 0 ? b.counts[i - 1] : 0;
    const inBucket = b.counts[i] - below;
    if (inBucket <= 0) return upper;
    return lower + (upper - lower) * ((rank - below) / inBucket);
  }
  return null;
}
