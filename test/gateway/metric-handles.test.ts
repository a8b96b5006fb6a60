// The lean metric handles write exactly what prom-client's own updates write: the same updates
// through each give the same /metrics text, across a reset and for values prom-client refuses.
import { describe, expect, it } from 'vitest';
import client from 'prom-client';
import { CounterHandle, HistogramHandle } from '../../src/gateway/metric-handles.js';

function metricsPair() {
  const make = () => {
    const registry = new client.Registry();
    const counter = new client.Counter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'], registers: [registry] });
    const hist = new client.Histogram({ name: 'h_seconds', help: 'h', labelNames: ['a'], buckets: [0.1, 1, 10], registers: [registry] });
    const bare = new client.Histogram({ name: 'o_seconds', help: 'o', buckets: [0.001, 0.01], registers: [registry] });
    return { registry, counter, hist, bare };
  };
  return { plain: make(), lean: make() };
}

describe('lean metric handles', () => {
  it('give the same exposition as prom-client labels() children, across a reset', async () => {
    const { plain, lean } = metricsPair();
    const p = { x: plain.counter.labels('x', '1'), y: plain.counter.labels('y', '2'), h: plain.hist.labels('x') };
    const l = {
      x: new CounterHandle(lean.counter, { a: 'x', b: '1' }),
      y: new CounterHandle(lean.counter, { a: 'y', b: '2' }),
      h: new HistogramHandle(lean.hist, { a: 'x' }),
      o: new HistogramHandle(lean.bare, {}),
    };
    const values = [0, 0.05, 0.1, 0.5, 1, 3, 10, 11, 250];
    for (const v of values) {
      p.y.inc(v);
      l.y.inc(v);
      p.x.inc();
      l.x.inc();
      p.h.observe(v);
      l.h.observe(v);
      plain.bare.observe(v / 1000);
      l.o.observe(v / 1000);
    }
    expect(await lean.registry.metrics()).toBe(await plain.registry.metrics());
    plain.counter.reset();
    lean.counter.reset();
    p.x.inc(2);
    l.x.inc(2);
    expect(await lean.registry.metrics()).toBe(await plain.registry.metrics());
  });

  it('refuse what prom-client refuses', () => {
    const { lean } = metricsPair();
    const c = new CounterHandle(lean.counter, { a: 'x', b: '1' });
    const h = new HistogramHandle(lean.hist, { a: 'x' });
    c.inc();
    h.observe(1);
    expect(() => c.inc(-1)).toThrow();
    expect(() => c.inc(Infinity)).toThrow();
    expect(() => h.observe(Number.NaN)).toThrow();
  });
});
