// Scrapes every provider's engine on a timer, off any request's path: each scrape is bounded in
// time and size, one per provider at a time, and a slow or dead engine only ever makes its own
// entry stale. Readers get the last figures at once (`report`, `load`), never wait for a scrape.
import type { Provider } from '../config/schema.js';
import { boundedGet, SCRAPE_HEADER } from './fetch.js';
import { OllamaShapeError, readOllama } from './ollama.js';
import { NotPrometheusText, parsePrometheusText } from './prom-text.js';
import { engineTarget, pointsAt, type EngineTarget } from './target.js';
import type { EngineKind, EnginesReport, EngineStatus } from './types.js';
import { VllmReader } from './vllm.js';

export interface MonitorOptions {
  refreshMs?: number;
  timeoutMs?: number;
  /** largest /metrics body read; larger answers count as a failed scrape */
  maxMetricsBytes?: number;
  maxJsonBytes?: number;
  /** the gateway's own address, so an engine URL pointing back at it is refused */
  self?: () => { host: string; port: number } | null;
  /** an undetected OpenAI-compatible server is asked again after this long */
  redetectMs?: number;
}

/** What routing reads on every request: plain numbers, no allocation. */
export interface EngineLoad {
  up: boolean;
  waiting: number | null;
  running: number | null;
  kvUsage: number | null;
}

export const DEFAULT_REFRESH_MS = 2000;
const MAX_METRICS_BYTES = 4 * 1024 * 1024;
const MAX_JSON_BYTES = 1024 * 1024;
/** A /metrics that carries ptui's own request counter is a gateway, not an engine. */
const GATEWAY_MARKER = /^backend_llm_requests_total[{ ]/m;
const VLLM_LINE = /^vllm:/m;

class ProviderScraper {
  kind: EngineKind | null;
  reader = new VllmReader();
  busy = false;
  lastWall: number | null = null;
  nextDetect = 0;
  status: EngineStatus;
  load: EngineLoad = { up: false, waiting: null, running: null, kvUsage: null };

  constructor(readonly target: EngineTarget) {
    this.kind = target.kind === 'auto' ? null : target.kind;
    this.status = this.blank('not scraped yet');
  }

  blank(error: string): EngineStatus {
    return {
      provider: this.target.provider,
      engine: this.kind ?? 'vllm',
      url: this.target.shownUrl,
      up: false,
      error,
      warnings: [],
      scraped_at: null,
      scrape_age_s: null,
      scrape_ms: null,
      gpu_usd_per_hour: this.target.gpuUsdPerHour,
      usd_per_1m_generated_tokens: null,
    };
  }
}

export class EngineMonitor {
  readonly refreshMs: number;
  private readonly timeoutMs: number;
  private scrapers = new Map<string, ProviderScraper>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: MonitorOptions = {}) {
    this.refreshMs = Math.max(50, opts.refreshMs ?? DEFAULT_REFRESH_MS);
    // Not tied to the refresh: a busy engine answering in 1 s is up, whatever the refresh; a
    // scrape still running when the next refresh comes is simply not started twice.
    this.timeoutMs = Math.max(20, opts.timeoutMs ?? 1500);
  }

  /** A (new) provider set: unchanged engines keep their history. */
  update(providers: Record<string, Provider>): void {
    const next = new Map<string, ProviderScraper>();
    for (const [name, p] of Object.entries(providers)) {
      const t = engineTarget(name, p);
      if (!t) continue;
      const old = this.scrapers.get(name);
      if (old && old.target.signature === t.signature) {
        old.status.gpu_usd_per_hour = t.gpuUsdPerHour;
        (old as { target: EngineTarget }).target = t;
        next.set(name, old);
      } else next.set(name, new ProviderScraper(t));
    }
    this.scrapers = next;
  }

  start(): void {
    if (this.timer) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One scrape of every engine not already being scraped; resolves when they are done. */
  refresh(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const s of this.scrapers.values()) if (!s.busy) jobs.push(this.scrape(s));
    const all = Promise.all(jobs).then(() => {});
    this.running = all;
    return all;
  }

  /** Live figures of one provider's engine for routing; undefined when it has no engine. */
  load(provider: string): EngineLoad | undefined {
    const s = this.scrapers.get(provider);
    return s && s.kind ? s.load : undefined;
  }

  report(): EnginesReport {
    const now = Date.now();
    const engines: EngineStatus[] = [];
    for (const s of this.scrapers.values()) {
      if (!s.kind) continue; // an OpenAI-compatible server not (yet) seen to be vLLM
      const age = s.lastWall === null ? null : Math.max(0, Math.round((now - s.lastWall) / 100) / 10);
      engines.push({ ...s.status, scrape_age_s: age });
    }
    return { refresh_s: this.refreshMs / 1000, engines };
  }

  private async scrape(s: ProviderScraper): Promise<void> {
    const t = s.target;
    if (t.kind === 'auto' && !s.kind && performance.now() < s.nextDetect) return;
    s.busy = true;
    const t0 = performance.now();
    try {
      if (pointsAt(t.url, this.opts.self?.() ?? null)) throw new EngineRefused(`${t.shownUrl} is this gateway's own address, not an engine`);
      if (s.kind === 'ollama') await this.scrapeOllama(s);
      else await this.scrapeVllm(s, t0);
      s.status.scrape_ms = Math.round((performance.now() - t0) * 10) / 10;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (t.kind === 'auto' && !s.kind) {
        s.nextDetect = performance.now() + (this.opts.redetectMs ?? 60_000);
      } else {
        const keep = s.status;
        s.status = { ...s.blank(message), scraped_at: keep.scraped_at, scrape_ms: Math.round((performance.now() - t0) * 10) / 10 };
        s.load = { up: false, waiting: null, running: null, kvUsage: null };
      }
    } finally {
      s.busy = false;
    }
  }

  private async scrapeVllm(s: ProviderScraper, t0: number): Promise<void> {
    const res = await boundedGet(s.target.url, {
      timeoutMs: this.timeoutMs,
      maxBytes: this.opts.maxMetricsBytes ?? MAX_METRICS_BYTES,
      headers: { [SCRAPE_HEADER]: '1' },
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${s.target.shownUrl}`);
    if (GATEWAY_MARKER.test(res.text)) throw new EngineRefused(`${s.target.shownUrl} is a ptui gateway's /metrics, not an engine's`);
    // Only vllm: lines are read when there are any; otherwise the whole body, to say what it is.
    const isVllm = VLLM_LINE.test(res.text);
    let parsed;
    try {
      parsed = parsePrometheusText(res.text, isVllm ? 'vllm:' : undefined);
    } catch (err) {
      if (err instanceof NotPrometheusText) throw new Error(err.message);
      throw err;
    }
    if (!s.kind) {
      if (!isVllm) throw new Error('no vllm: metrics');
      s.kind = 'vllm';
    }
    const at = performance.now();
    const restartsBefore = s.reader.restarts;
    const figures = s.reader.read(parsed, at);
    const warnings: string[] = [];
    if (!isVllm) warnings.push('no vllm: metrics in the answer: every figure is unsupported');
    if (parsed.nonFinite) warnings.push(`${parsed.nonFinite} NaN/Inf sample(s) ignored`);
    if (parsed.invalidLines) warnings.push(`${parsed.invalidLines} unreadable line(s) ignored`);
    if (s.reader.restarts > restartsBefore) warnings.push('counters went backwards (engine restarted): rates start over');
    const gpu = s.target.gpuUsdPerHour;
    const hourTokens = figures.generation_tokens_last_hour;
    s.lastWall = Date.now();
    s.status = {
      ...s.blank(''),
      engine: 'vllm',
      up: true,
      error: null,
      warnings,
      scraped_at: new Date(s.lastWall).toISOString(),
      scrape_ms: Math.round((at - t0) * 10) / 10,
      usd_per_1m_generated_tokens: gpu !== null && hourTokens ? Math.round((gpu / hourTokens) * 1e6 * 1e4) / 1e4 : null,
      vllm: figures,
    };
    s.load = { up: true, waiting: figures.waiting, running: figures.running, kvUsage: figures.kv_usage };
  }

  private async scrapeOllama(s: ProviderScraper): Promise<void> {
    const get = (path: string) =>
      boundedGet(`${s.target.url}${path}`, { timeoutMs: this.timeoutMs, maxBytes: this.opts.maxJsonBytes ?? MAX_JSON_BYTES, headers: { [SCRAPE_HEADER]: '1' } });
    const [ps, tags] = await Promise.all([get('/api/ps'), get('/api/tags').catch(() => null)]);
    if (ps.status !== 200) throw new Error(`HTTP ${ps.status} from ${s.target.shownUrl}/api/ps`);
    let figures;
    try {
      figures = readOllama(ps.text, tags && tags.status === 200 ? tags.text : null, Date.now());
    } catch (err) {
      if (err instanceof OllamaShapeError) throw new Error(err.message);
      throw err;
    }
    s.lastWall = Date.now();
    s.status = {
      ...s.blank(''),
      engine: 'ollama',
      up: true,
      error: null,
      warnings: tags && tags.status === 200 ? [] : ['/api/tags did not answer'],
      scraped_at: new Date(s.lastWall).toISOString(),
      ollama: figures,
    };
    s.load = { up: true, waiting: null, running: null, kvUsage: null };
  }
}

class EngineRefused extends Error {}
