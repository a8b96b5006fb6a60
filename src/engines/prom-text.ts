// Prometheus text exposition (format 0.0.4) into plain samples. Tokenising, label unescaping and
// HELP/TYPE handling come from `parse-prometheus-text-format`; two of its habits are worked
// around here: it folds every label set of a histogram into one (losing all but the last, and
// the labelled _sum/_count), so TYPE lines are kept from it and every series reaches us with its
// own labels; and it drops a last sample line that has no newline after it.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  /** samples by series name (`x_bucket`, `x_count`... stay separate), finite values only */
  series: Map<string, Sample[]>;
  /** lines that were not a sample, or a sample whose value was not a number */
  invalidLines: number;
  /** samples with NaN or ±Inf values, left out of `series` */
  nonFinite: number;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A sample value as the text format writes it: `+Inf`, `-Inf`, `NaN` or a Go float. */
export function parseValue(text: string): number | undefined {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  if (text === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

export class NotPrometheusText extends Error {}

/** The sample lines whose series name starts with `prefix`, one per line. */
function keepSamples(text: string, prefix: string): string {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (text.startsWith(prefix, start)) out.push(text.slice(start, end));
    start = end + 1;
  }
  return out.join('\n') + '\n';
}

/**
 * Parses an exposition. Throws NotPrometheusText when the body has no valid sample at all (an
 * HTML page, JSON, a login form) or a line the parser rejects outright. With `prefix`, only the
 * sample lines of series named so are read: most of a server's exposition (process, Python and
 * HTTP metrics) is of no interest, and skipping it keeps a scrape's CPU cost small.
 */
export function parsePrometheusText(text: string, prefix?: string): ParsedMetrics {
  // Comment lines other than HELP are skipped by the parser; TYPE lines would make it fold
  // histograms, so they are left out.
  const body = prefix ? keepSamples(text, prefix) : text.replace(/^[ \t]*# TYPE .*$/gm, '#') + '\n';
  let families;
  try {
    families = parsePrometheusTextFormat(body);
  } catch (err) {
    throw new NotPrometheusText(`not Prometheus text (${(err as Error).message.slice(0, 120)})`);
  }
  const series = new Map<string, Sample[]>();
  let invalidLines = 0;
  let nonFinite = 0;
  let valid = 0;
  for (const f of families) {
    if (f.metrics.length === 0) continue; // a HELP line on its own
    if (!NAME_RE.test(f.name)) {
      invalidLines += f.metrics.length;
      continue;
    }
    for (const m of f.metrics) {
      const value = m.value === undefined ? undefined : parseValue(m.value);
      if (value === undefined) {
        invalidLines++;
        continue;
      }
      valid++;
      if (!Number.isFinite(value)) {
        nonFinite++;
        continue;
      }
      let list = series.get(f.name);
      if (!list) series.set(f.name, (list = []));
      list.push({ labels: m.labels ?? {}, value });
    }
  }
  if (valid === 0) throw new NotPrometheusText('not Prometheus text (no valid sample line)');
  return { series, invalidLines, nonFinite };
}
