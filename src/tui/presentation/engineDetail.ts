// The engine half of a service's detail (Enter on a service): the engine's own figures as the
// gateway read them (queue, KV cache, prefix-cache hits, tokens/s, TTFT / inter-token / end-to-end
// p50 and p95, preemptions, finished requests), an Ollama's loaded models with their share in VRAM
// and unload countdown, the effective $ per 1M generated tokens, the gateway's routing state for
// the provider and the models that route to it. Pure: built from data when the view opens.
import type { ResolvedConfig } from '../../config/load.js';
import type { ProviderRoutingView } from '../../engines/routing-view.js';
import type { EngineStatus, OllamaFigures, VllmFigures } from '../../engines/types.js';
import type { ServiceState } from '../../system/types.js';
import type { ViewLine } from '../panels/TextView.js';
import { providerRoutes } from '../data/drainRestart.js';
import { engineOf, routingOf, type EngineFeedState } from '../data/engineFeed.js';
import type { Detail } from './detail.js';
import { NA, bytes, duration, num, usd } from './format.js';
import { UNSUPPORTED, shortRate, shortSeconds } from './engineRow.js';

const field = (name: string, value: string | number | null | undefined, tone?: ViewLine['tone']): ViewLine => ({
  text: `  ${name.padEnd(16)}${value ?? NA}`,
  tone,
});

const percent = (v: number | null) => (v === null ? NA : `${Math.round(v * 1000) / 10}%`);

function vllmLines(f: VllmFigures): ViewLine[] {
  const has = (name: string) => !f.unsupported.includes(name);
  const fig = (name: string, text: string) => (has(name) ? text : UNSUPPORTED + ' unsupported by this engine');
  const lat = (name: string, l: { p50: number | null; p95: number | null }) =>
    fig(name, `p50 ${shortSeconds(l.p50)} · p95 ${shortSeconds(l.p95)}`);
  const finished = f.finished_total
    ? Object.entries(f.finished_total)
        .map(([reason, n]) => `${reason} ${n}`)
        .join(' · ') || 'none yet'
    : null;
  const rateOver = f.rate_window_s === null ? '' : ` (over ${f.rate_window_s} s)`;
  const latencyOver = f.latency_window_s === null ? '' : ` (over ${f.latency_window_s} s)`;
  return [
    field('queue', `${fig('running', `${f.running ?? NA} running`)} · ${fig('waiting', `${f.waiting ?? NA} waiting`)}`),
    field('KV cache', fig('kv_usage', percent(f.kv_usage))),
    field('prefix cache', fig('prefix_cache_hit_rate', `${percent(f.prefix_cache_hit_rate)} hit`)),
    field(
      'tokens/s',
      `${fig('prompt_tokens_per_s', `${shortRate(f.prompt_tokens_per_s)} prompt`)} · ${fig('generation_tokens_per_s', `${shortRate(f.generation_tokens_per_s)} generated`)}${rateOver}`,
    ),
    field('TTFT', lat('ttft_s', f.ttft_s) + latencyOver),
    field('inter-token', lat('inter_token_s', f.inter_token_s)),
    field('end-to-end', lat('e2e_s', f.e2e_s)),
    field('preemptions', fig('preemptions_total', num(f.preemptions_total))),
    field('finished', has('finished_total') ? finished : fig('finished_total', '')),
  ];
}

function ollamaLines(o: OllamaFigures, scrapeAgeS: number | null): ViewLine[] {
  const lines: ViewLine[] = [{ text: '' }, { text: `Loaded models (${o.loaded.length}) · ${bytes(o.vram_bytes)} in VRAM`, bold: true }];
  for (const m of o.loaded) {
    const share = m.vram_share === null ? NA : `${Math.round(m.vram_share * 100)}% in VRAM`;
    const spill = m.spill === 'partial' ? ' (part in CPU memory)' : m.spill === 'cpu' ? ' (all in CPU memory)' : '';
    // unload_in_s was true at the scrape: count down from there
    const left = m.unload_in_s === null ? 'never unloads' : `unloads in ${duration(Math.max(0, m.unload_in_s - (scrapeAgeS ?? 0)))}`;
    const ctx = m.context_length === null ? '' : ` · ctx ${m.context_length}`;
    lines.push({ text: `  ${m.name}  ${bytes(m.size_bytes)} · ${share}${spill} · ${left}${ctx}`, tone: spill ? 'warn' : null });
  }
  if (o.loaded.length === 0) lines.push({ text: '  none: the next request loads its model', tone: 'dim' });
  lines.push({ text: `  on disk: ${o.available_total} model(s)${o.available.length ? `: ${o.available.map((a) => a.name).join(', ')}` : ''}`, tone: 'dim' });
  return lines;
}

function routingText(r: ProviderRoutingView): string {
  if (r.state === 'cooling_down') return `cooling down (${r.cooldown_s_left ?? NA} s left, ${r.consecutive_failures} failures in a row)`;
  if (r.state === 'draining') return `draining (${r.in_flight} in flight)`;
  return r.state;
}

export interface EngineSectionInput {
  provider: string;
  engine: EngineStatus | undefined;
  routing: ProviderRoutingView | undefined;
  /** null when the gateway has not answered; the reason */
  gatewayNotice: string | null;
  routes: { routes: string[]; only: string[] };
}

export function engineSection(i: EngineSectionInput): ViewLine[] {
  const lines: ViewLine[] = [{ text: '' }, { text: 'Engine', bold: true }];
  const e = i.engine;
  if (i.gatewayNotice) lines.push({ text: `  unknown: ${i.gatewayNotice}`, tone: 'dim' });
  else if (!e) lines.push({ text: '  none (no engine figures for this provider: engine none, or not seen to be vLLM)', tone: 'dim' });
  else {
    const age = e.scrape_age_s === null ? 'never scraped' : `scraped ${e.scrape_age_s} s ago${e.scrape_ms === null ? '' : ` in ${e.scrape_ms} ms`}`;
    lines.push(field('engine', `${e.engine}  ${e.url}`));
    lines.push(e.up ? field('state', `up · ${age}`, 'ok') : field('state', `down: ${e.error ?? 'no answer'} · ${age}`, 'bad'));
    for (const w of e.warnings) lines.push({ text: `  ${''.padEnd(16)}${w}`, tone: 'warn' });
    if (e.vllm) lines.push(...vllmLines(e.vllm));
    if (e.gpu_usd_per_hour !== null) {
      const hour = e.vllm?.generation_tokens_last_hour;
      const per = e.usd_per_1m_generated_tokens === null ? `${NA} (no tokens generated in the last hour)` : usd(e.usd_per_1m_generated_tokens);
      lines.push(field('$/1M generated', `${per} · GPU ${usd(e.gpu_usd_per_hour)}/h${hour ? ` · ${shortRate(hour)} tokens in the last hour` : ''}`));
    }
    if (e.ollama) lines.push(...ollamaLines(e.ollama, e.scrape_age_s));
  }
  lines.push({ text: '' }, { text: 'Gateway routing', bold: true });
  const r = i.routing;
  if (r) {
    lines.push(field('state', routingText(r), r.state === 'active' ? 'ok' : 'warn'));
    lines.push(field('in flight', r.in_flight));
    if (r.saturated !== null) lines.push(field('saturated', r.saturated ? 'yes: balanced routing passes it over' : 'no', r.saturated ? 'bad' : null));
  } else lines.push({ text: `  ${i.gatewayNotice ? 'unknown' : 'not known to the gateway'}`, tone: 'dim' });
  lines.push(field('routes', i.routes.routes.length ? i.routes.routes.join(', ') : 'no model routes to it'));
  if (i.routes.only.length) lines.push(field('only target of', i.routes.only.join(', '), 'warn'));
  return lines;
}

/** A service's detail with its engine section after the unit's own lines (and its traffic). */
export function serviceEngineDetail(d: Detail, s: ServiceState, engines: EngineFeedState, config: ResolvedConfig | undefined): Detail {
  const section = engineSection({
    provider: s.provider,
    engine: engineOf(engines, s.provider),
    routing: routingOf(engines, s.provider),
    gatewayNotice: engines.updatedAt === null ? (engines.notice ?? 'the gateway has not answered yet') : null,
    routes: providerRoutes(config, s.provider),
  });
  return { ...d, lines: [...d.lines, ...section] };
}
