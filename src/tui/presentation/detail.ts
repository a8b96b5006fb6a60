// What Enter opens: every field of the selected row, whole (nothing cut at a column), as the
// lines of a full-screen view. Built when it opens: the state the console saw at that moment.
// What has to be read first (traffic per minute from the usage log, the failed attempts from
// the gateway's log) arrives as `DetailExtra`, and the detail is built again with it.
import type { GpuProcess, GpuSample, ServiceState } from '../../system/types.js';
import type { ResolvedConfig } from '../../config/load.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { MinuteStats } from '../../usage/reader.js';
import type { ViewLine } from '../panels/TextView.js';
import type { BudgetRow } from './budgetView.js';
import { NA, clock, mib, pct, sparkline, usd } from './format.js';
import { budgetFraction, forecast, forecastText, moneyPair } from './budgetView.js';

export interface Detail {
  title: string;
  lines: ViewLine[];
}

/** Read after the detail opened: null while reading, an error when it could not be read. */
export interface DetailExtra {
  /** oldest minute first */
  series?: readonly MinuteStats[] | null;
  /** the request's failed attempts, as the gateway logged them */
  attempts?: readonly string[] | null;
  error?: string | null;
}

/** The last action the console ran on a unit, with all systemctl printed. */
export interface ServiceActionRecord {
  verb: string;
  ok: boolean;
  atMs: number;
  message: string;
  output: readonly string[];
}

/** What else the console saw when the detail opened. */
export interface Seen {
  services: readonly ServiceState[];
  gpus: readonly GpuSample[];
  processes: readonly GpuProcess[];
  owners: ReadonlyMap<number, string>;
}

const text = (v: unknown): string => (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? NA : String(v));
const field = (name: string, value: unknown): ViewLine => ({ text: `  ${name.padEnd(16)}${text(value)}` });
const heading = (t: string, tone: ViewLine['tone'] = null): ViewLine[] => [{ text: '' }, { text: t, bold: true, tone }];
const ms = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? `${Math.round(v)} ms` : null);

/** Completion tokens over generation time: latency less TTFT for a stream, the whole latency otherwise. */
export function tokensPerSecond(r: Pick<StoredUsageRow, 'stream' | 'latency_ms' | 'ttft_ms' | 'completion_tokens'>): number | null {
  const gen = r.stream && r.ttft_ms !== null && r.latency_ms !== null ? r.latency_ms - r.ttft_ms : r.latency_ms;
  if (!r.completion_tokens || typeof gen !== 'number' || !(gen > 0)) return null;
  return r.completion_tokens / (gen / 1000);
}

function unitLines(s: ServiceState): ViewLine[] {
  return [
    field('unit', s.unit),
    field('provider', s.provider),
    field('load state', s.loadState),
    field('state', s.subState ? `${s.activeState}/${s.subState}` : s.activeState),
    field('since', s.since),
    field('MainPID', s.mainPid),
    field('health', s.healthDetail ? `${s.health}: ${s.healthDetail}` : s.health),
    field('GPU memory', mib(s.gpuMemMiB)),
  ];
}

function gpuLines(gpus: readonly GpuSample[]): ViewLine[] {
  if (gpus.length === 0) return [{ text: '  no GPU readings', tone: 'dim' }];
  return gpus.map((g) => ({ text: `  ${g.index} ${g.name}  util ${pct(g.utilPct)}  memory ${mib(g.memUsedMiB)}/${mib(g.memTotalMiB)}` }));
}

/** At most this many bars in a detail's sparkline: a long window's minutes are summed into them. */
export const MAX_BARS = 60;

/** Consecutive values summed into at most `bars` bars, oldest first, and how many values each holds. */
export function buckets(values: readonly number[], bars: number): { bars: number[]; per: number } {
  const per = Math.max(1, Math.ceil(values.length / Math.max(1, bars)));
  const out: number[] = [];
  for (let i = 0; i < values.length; i += per) out.push(values.slice(i, i + per).reduce((a, v) => a + v, 0));
  return { bars: out, per };
}

function seriesLines(extra: DetailExtra | undefined, what: string, value: (m: MinuteStats) => number, total: (v: number) => string): ViewLine[] {
  if (extra?.error) return [{ text: `  ${extra.error}`, tone: 'bad' }];
  const series = extra?.series;
  if (!series) return [{ text: '  reading the usage log…', tone: 'dim' }];
  const { bars, per } = buckets(series.map(value), MAX_BARS);
  const max = Math.max(0, ...bars);
  const sum = bars.reduce((a, v) => a + v, 0);
  return [
    { text: `  ${sparkline(bars, bars.length, max > 0 ? max : 1)}` },
    { text: `  ${what}: ${total(sum)} in all, at most ${total(max)} per bar of ${per < 120 ? `${per} min` : `${Math.round(per / 60)} h`} · oldest left`, tone: 'dim' },
  ];
}

export function serviceDetail(s: ServiceState, seen: Seen, last: ServiceActionRecord | null, extra?: DetailExtra): Detail {
  const mine = seen.processes.filter((p) => seen.owners.get(p.pid) === s.unit);
  const lines: ViewLine[] = [{ text: 'Unit', bold: true }, ...unitLines(s)];
  if (s.error) lines.push(...heading('Error', 'bad'), { text: `  ${s.error}`, tone: 'bad' });
  if (last) {
    lines.push(...heading(`Last action: ${last.verb} at ${clock(last.atMs)} — ${last.ok ? 'done' : 'failed'}`, last.ok ? 'ok' : 'bad'));
    const out = last.output.length > 0 ? last.output : [last.message];
    for (const l of out) lines.push({ text: `  ${l}`, tone: last.ok ? null : 'bad' });
  }
  lines.push(...heading(`GPU processes (${mine.length})`));
  for (const p of mine) lines.push({ text: `  pid ${p.pid}  ${mib(p.usedMemMiB)}  ${p.name}` });
  if (mine.length === 0) lines.push({ text: '  none', tone: 'dim' });
  const minutes = extra?.series?.length;
  lines.push(...heading(`Traffic the gateway sent to ${s.provider}${minutes ? ` over the last ${minutes} min` : ''}`));
  lines.push(...seriesLines(extra, 'requests', (m) => m.requests, (v) => String(v)));
  if (extra?.series) {
    const errors = extra.series.reduce((n, m) => n + m.errors, 0);
    const cost = extra.series.reduce((n, m) => n + m.costUsd, 0);
    lines.push({ text: `  errors ${errors} · cost ${usd(cost)}`, tone: errors > 0 ? 'warn' : 'dim' });
  }
  return { title: `Service: ${s.unit}`, lines };
}

/** The model's route in the config: its targets (balanced or in order), then its fallbacks. */
function routeLines(r: StoredUsageRow, config: ResolvedConfig | undefined): ViewLine[] {
  const m = r.logical_model ? config?.models[r.logical_model] : undefined;
  if (!m) return [{ text: '  not a model of the config the console has', tone: 'dim' }];
  const answered = (t: { provider: string; model: string }) => r.status === 'success' && t.provider === r.provider && t.model === r.concrete_model;
  const list = [...m.targets.map((t) => ({ t, fallback: false })), ...(m.fallbacks ?? []).map((t) => ({ t, fallback: true }))];
  return [
    { text: `  routing ${m.routing}${m.routing === 'balanced' ? ' (targets share the load)' : ' (targets tried in order)'}`, tone: 'dim' },
    ...list.map(({ t, fallback }, i) => ({
      text: `  ${i + 1}. ${t.provider}/${t.model}${fallback ? ' (fallback)' : ''}${answered(t) ? '  ← answered' : ''}`,
      tone: answered(t) ? ('ok' as const) : null,
    })),
  ];
}

export function requestDetail(r: StoredUsageRow, seen: Seen, config: ResolvedConfig | undefined, extra?: DetailExtra): Detail {
  const tps = tokensPerSecond(r);
  const attempts = typeof r.attempts === 'number' ? r.attempts : null;
  const ok = r.status === 'success';
  const lines: ViewLine[] = [
    field('request id', r.request_id),
    field('started', r.timestamp ? `${r.timestamp} (${clock(r.timestamp)})` : null),
    field('endpoint', r.endpoint),
    field('model', r.logical_model),
    field('concrete model', r.concrete_model),
    field('provider', r.provider),
    field('capability', r.capability),
    field('attempts', attempts !== null && attempts > 1 ? `${attempts} (${attempts - 1} fell back)` : attempts),
    field('stream', r.stream === null || r.stream === undefined ? null : r.stream ? 'yes' : 'no'),
    field('tokens in/out', `${text(r.prompt_tokens)} / ${text(r.completion_tokens)} (total ${text(r.total_tokens)})`),
    field('usage from', r.usage_source),
    field('cost', usd(r.cost_usd)),
    field('latency', ms(r.latency_ms)),
    field('TTFT', ms(r.ttft_ms)),
    field('tokens/s', tps === null ? null : `${tps.toFixed(1)}${r.stream ? ' (after the first token)' : ''}`),
    field('cache hit', r.cache_hit === null || r.cache_hit === undefined ? null : r.cache_hit ? 'yes' : 'no'),
    field('key', r.key_alias),
    { text: `  ${'status'.padEnd(16)}${text(r.status)} ${text(r.http_status)}`, tone: ok ? 'ok' : 'bad' },
    field('error type', r.error_type),
  ];
  if (r.error_message) lines.push(...heading('Error', 'bad'), { text: `  ${r.error_message}`, tone: 'bad' });
  lines.push(...heading('Route'), ...routeLines(r, config));
  if (attempts !== null && attempts > 1) {
    lines.push(...heading('Failed attempts (gateway log)'));
    if (extra?.attempts === undefined || extra.attempts === null) lines.push({ text: '  reading the gateway log…', tone: 'dim' });
    else if (extra.attempts.length === 0) lines.push({ text: '  not in the end of the gateway log', tone: 'dim' });
    else for (const a of extra.attempts) lines.push({ text: `  ${a}`, tone: 'warn' });
  }
  const unit = seen.services.find((s) => s.provider === r.provider);
  lines.push(...heading('When the console opened this'));
  if (unit) lines.push(...unitLines(unit));
  else lines.push({ text: `  no service configured for ${text(r.provider)}`, tone: 'dim' });
  lines.push(...gpuLines(seen.gpus));
  return { title: `Request ${text(r.request_id)}`, lines };
}

/** Shared mode: how a budget's spend and reservations split over the gateways on one Redis. */
function perGateway(s: NonNullable<BudgetRow['shared']>): ViewLine[] {
  const lines = heading(`Per gateway (shared · ${s.gateways.length} with spend or reservations)`);
  for (const g of s.gateways) lines.push(field(g.gateway_id, `${usd(g.spend_usd)} spent, ${usd(g.reserved_usd)} reserved`));
  if (s.gateways.length === 0) lines.push({ text: '  none yet', tone: 'dim' });
  lines.push(field('this gateway', `${usd(s.local_spend_usd)} (live)`), field('in flight', usd(s.reserved_usd)), field('read at', s.read_at ?? 'not yet: Redis has not answered'));
  return lines;
}

export function budgetDetail(b: BudgetRow, extra?: DetailExtra): Detail {
  return {
    title: `Budget: ${b.scope} ${b.target}`,
    lines: [
      field('scope', b.scope),
      field('target', b.target),
      field('spend', `${moneyPair(b.spend_usd, b.max_budget_usd).replace('/', ' of ')} (${Math.floor(budgetFraction(b) * 100)}%)`),
      field('remaining', usd(b.remaining_usd)),
      field('window', `${b.budget_window} (rolling)`),
      field('action', b.action),
      field('last hour', usd(b.lastHourSpendUsd)),
      field('forecast', forecastText(forecast(b), true)),
      ...heading(`Spend over the ${b.budget_window} window`),
      ...seriesLines(extra, 'spend', (m) => m.costUsd, (v) => moneyPair(v, b.max_budget_usd).split('/')[0]),
      ...(b.shared ? perGateway(b.shared) : []),
    ],
  };
}
