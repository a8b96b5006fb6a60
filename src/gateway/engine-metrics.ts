// The engines' live figures re-exported as Prometheus gauges, labelled by provider only, read
// from the monitor's last scrape when /metrics is collected (never a scrape of their own). A
// figure the engine does not report has no sample rather than a made-up 0.
import client from 'prom-client';
import type { EngineMonitor } from '../engines/monitor.js';

export function registerEngineGauges(registry: client.Registry, monitor: EngineMonitor): void {
  const gauge = (name: string, help: string, read: (e: ReturnType<EngineMonitor['report']>['engines'][number]) => number | null | undefined) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['provider'],
      registers: [registry],
      collect() {
        this.reset();
        for (const e of monitor.report().engines) {
          const v = read(e);
          if (v !== null && v !== undefined) this.set({ provider: e.provider }, v);
        }
      },
    });
  gauge('backend_engine_up', 'Whether the last scrape of the engine behind the provider succeeded (1) or not (0).', (e) => (e.up ? 1 : 0));
  gauge('backend_engine_running_requests', 'Requests the engine reports running (vLLM num_requests_running).', (e) => (e.up ? e.vllm?.running : null));
  gauge('backend_engine_waiting_requests', 'Requests the engine reports waiting in its queue (vLLM num_requests_waiting).', (e) => (e.up ? e.vllm?.waiting : null));
  gauge('backend_engine_kv_cache_usage_ratio', 'KV-cache usage the engine reports, 0 to 1 (vLLM kv_cache_usage_perc).', (e) => (e.up ? e.vllm?.kv_usage : null));
}
