// What Enter opens: every field of the selected row, whole (nothing cut at a column), as the
// lines of a full-screen view. Built when it opens: the state the console saw at that moment.
import type { GpuProcess, ServiceState } from '../../system/types.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { ViewLine } from '../panels/TextView.js';
import type { BudgetRow } from './budgetView.js';
import { NA, clock, mib, usd } from './format.js';
import { budgetFraction, forecast, forecastText, moneyPair } from './budgetView.js';

export interface Detail {
  title: string;
  lines: ViewLine[];
}

const field = (name: string, value: string | number | null | undefined): ViewLine => ({ text: `  ${name.padEnd(16)}${value ?? NA}` });

export function serviceDetail(s: ServiceState, processes: readonly GpuProcess[], owners: ReadonlyMap<number, string>): Detail {
  const mine = processes.filter((p) => owners.get(p.pid) === s.unit);
  const lines: ViewLine[] = [
    { text: 'Unit', bold: true },
    field('unit', s.unit),
    field('provider', s.provider),
    field('load state', s.loadState),
    field('state', s.subState ? `${s.activeState}/${s.subState}` : s.activeState),
    field('since', s.since),
    field('MainPID', s.mainPid),
    field('health', s.healthDetail ? `${s.health}: ${s.healthDetail}` : s.health),
    field('GPU memory', mib(s.gpuMemMiB)),
  ];
  if (s.error) lines.push({ text: '' }, { text: 'Last error', bold: true, tone: 'bad' }, { text: `  ${s.error}`, tone: 'bad' });
  lines.push({ text: '' }, { text: `GPU processes (${mine.length})`, bold: true });
  for (const p of mine) lines.push({ text: `  pid ${p.pid}  ${mib(p.usedMemMiB)}  ${p.name}` });
  if (mine.length === 0) lines.push({ text: '  none', tone: 'dim' });
  return { title: `Service: ${s.unit}`, lines };
}

export function requestDetail(r: StoredUsageRow): Detail {
  const genMs = r.stream && r.latency_ms !== null && r.ttft_ms !== null ? r.latency_ms - r.ttft_ms : r.latency_ms;
  const tps = r.completion_tokens && genMs && genMs > 0 ? (r.completion_tokens / (genMs / 1000)).toFixed(1) : null;
  const lines: ViewLine[] = [
    field('request id', r.request_id),
    field('started', `${r.timestamp} (${clock(r.timestamp)})`),
    field('endpoint', r.endpoint),
    field('model', r.logical_model),
    field('concrete model', r.concrete_model),
    field('provider', r.provider),
    field('capability', r.capability),
    field('attempts', r.attempts > 1 ? `${r.attempts} (${r.attempts - 1} fell back)` : r.attempts),
    field('stream', r.stream ? 'yes' : 'no'),
    field('tokens in/out', `${r.prompt_tokens ?? NA} / ${r.completion_tokens ?? NA} (total ${r.total_tokens ?? NA})`),
    field('usage from', r.usage_source),
    field('cost', usd(r.cost_usd)),
    field('latency', r.latency_ms === null ? null : `${Math.round(r.latency_ms)} ms`),
    field('TTFT', r.ttft_ms === null ? null : `${Math.round(r.ttft_ms)} ms`),
    field('tokens/s', tps),
    field('cache hit', r.cache_hit ? 'yes' : 'no'),
    field('key', r.key_alias),
    { text: `  ${'status'.padEnd(16)}${r.status} ${r.http_status}`, tone: r.status === 'success' ? 'ok' : 'bad' },
    field('error type', r.error_type),
  ];
  if (r.error_message) lines.push({ text: '' }, { text: 'Error', bold: true, tone: 'bad' }, { text: `  ${r.error_message}`, tone: 'bad' });
  return { title: `Request ${r.request_id}`, lines };
}

export function budgetDetail(b: BudgetRow): Detail {
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
    ],
  };
}
