import { describe, expect, it } from 'vitest';
import { NotPrometheusText, parsePrometheusText, parseValue } from '../../src/engines/prom-text.js';

const LABELLED_HISTOGRAM = `# HELP h latency
# TYPE h histogram
h_bucket{le="0.1",engine="0"} 1
h_bucket{le="+Inf",engine="0"} 2
h_count{engine="0"} 2
h_sum{engine="0"} 0.3
h_bucket{le="0.1",engine="1"} 5
h_bucket{le="+Inf",engine="1"} 7
h_count{engine="1"} 7
h_sum{engine="1"} 1
# TYPE c counter
c_total{path="a\\"b"} 3`;

describe('parsePrometheusText', () => {
  it('keeps every label set of a histogram and a last line without a newline', () => {
    const m = parsePrometheusText(LABELLED_HISTOGRAM);
    expect(m.series.get('h_bucket')).toHaveLength(4);
    expect(m.series.get('h_count')!.map((s) => s.labels.engine)).toEqual(['0', '1']);
    expect(m.series.get('h_sum')!.map((s) => s.value)).toEqual([0.3, 1]);
    expect(m.series.get('c_total')).toEqual([{ labels: { path: 'a"b' }, value: 3 }]);
  });

  it('leaves NaN and ±Inf samples out and counts them', () => {
    const m = parsePrometheusText('a NaN\nb +Inf\nc -Inf\nd 4\n');
    expect([...m.series.keys()]).toEqual(['d']);
    expect(m.nonFinite).toBe(3);
  });

  it('refuses HTML, JSON and empty bodies', () => {
    expect(() => parsePrometheusText('<html>\n<body>Login</body>\n</html>')).toThrow(NotPrometheusText);
    expect(() => parsePrometheusText('{"models": []}')).toThrow(NotPrometheusText);
    expect(() => parsePrometheusText('')).toThrow(NotPrometheusText);
    expect(() => parsePrometheusText('x{a=b} 1\n')).toThrow(NotPrometheusText);
  });

  it('counts unreadable lines among good ones', () => {
    const m = parsePrometheusText('good 1\nbad-name 2\nworse notanumber\n');
    expect(m.series.get('good')![0].value).toBe(1);
    expect(m.invalidLines).toBe(2);
  });

  it('with a prefix, reads only the series named so (the rest of an exposition is skipped)', () => {
    const text = '# HELP python_gc x\n# TYPE python_gc counter\npython_gc_total 5\n# TYPE vllm:x histogram\nvllm:x_bucket{le="+Inf"} 2\nvllm:y 1';
    const m = parsePrometheusText(text, 'vllm:');
    expect([...m.series.keys()]).toEqual(['vllm:x_bucket', 'vllm:y']);
  });

  it('reads the text format number forms', () => {
    expect(parseValue('1.5e3')).toBe(1500);
    expect(parseValue('+Inf')).toBe(Infinity);
    expect(parseValue('NaN')).toBeNaN();
    expect(parseValue('0x10')).toBeUndefined();
    expect(parseValue('')).toBeUndefined();
  });
});
