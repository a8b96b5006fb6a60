// The lines of the full-screen views (help, routing/config, details), built from data so they
// can be tested without a terminal.
import type { ConfigProblem, ResolvedConfig } from '../../config/load.js';
import { formatProblem } from '../../config/load.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { ViewLine } from '../panels/TextView.js';
import { helpRows } from '../keys/bindings.js';
import { panelList } from '../panels/catalog.js';
import { displayWidth, fit, usd, wordWrap } from './format.js';

export function helpLines(): ViewLine[] {
  const rows = helpRows();
  const w = Math.max(...rows.map((r) => displayWidth(r.label))) + 2;
  return [
    { text: 'Keys', bold: true },
    ...rows.map((r) => ({ text: `  ${fit(r.label, w)}${r.description}` })),
    { text: '' },
    { text: `Panels: ${panelList()}`, tone: 'dim' },
    { text: 'The gateway writes runtime/logs/gateway.log (L shows it) and keeps serving when the console quits.', tone: 'dim' },
  ];
}

export interface TargetTraffic {
  requests: number;
  errors: number;
  /** streams only: completion tokens and the seconds spent generating them (latency less TTFT) */
  genTokens: number;
  genSeconds: number;
}

export function targetKey(model: string | null, provider: string | null, concrete: string | null): string {
  return `${model}\u0000${provider}\u0000${concrete}`;
}

/** Requests and errors per logical model and the target that answered, in the rows held. */
export function trafficByTarget(rows: readonly StoredUsageRow[], sinceMs: number): Map<string, TargetTraffic> {
  const out = new Map<string, TargetTraffic>();
  for (const r of rows) {
    if (Date.parse(r.timestamp) < sinceMs) break; // rows are newest first
    const key = targetKey(r.logical_model, r.provider, r.concrete_model);
    const t = out.get(key) ?? { requests: 0, errors: 0, genTokens: 0, genSeconds: 0 };
    t.requests++;
    if (r.status === 'error') t.errors++;
    const gen = r.stream && r.ttft_ms !== null && r.latency_ms !== null ? r.latency_ms - r.ttft_ms : 0;
    if (r.completion_tokens && gen > 0) {
      t.genTokens += r.completion_tokens;
      t.genSeconds += gen / 1000;
    }
    out.set(key, t);
  }
  return out;
}

function budgetText(b: { max_budget_usd: number; budget_window: string; action: string } | undefined): string {
  return b ? `budget ${usd(b.max_budget_usd)}/${b.budget_window} ${b.action}` : '';
}

export function routingLines(
  config: ResolvedConfig | undefined,
  problems: readonly ConfigProblem[],
  traffic: ReadonlyMap<string, TargetTraffic>,
  trafficWindowS: number,
  /** the config shown is the last good one: the files on disk now have errors */
  lastGood = false,
): ViewLine[] {
  const lines: ViewLine[] = [];
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  if (errors.length > 0) {
    lines.push({ text: `Config errors (${errors.length}) — the gateway keeps its last good config`, tone: 'bad', bold: true });
    for (const p of errors) lines.push({ text: `  ${formatProblem(p)}`, tone: 'bad' });
    lines.push({ text: '' });
  }
  if (warnings.length > 0) {
    for (const p of warnings) lines.push({ text: `  ${formatProblem(p)}`, tone: 'warn' });
    lines.push({ text: '' });
  }
  if (!config) {
    lines.push({ text: 'No valid configuration loaded.', tone: 'dim' });
    return lines;
  }
  if (lastGood) lines.push({ text: 'What the gateway still runs: the last config that loaded without errors', tone: 'warn', bold: true });
  lines.push({ text: `Routing: logical model → targets (ordered: in turn; balanced: sharing the load), then fallbacks · traffic over the last ${trafficWindowS}s`, bold: true });
  const modelW = Math.max(8, ...Object.keys(config.models).map(displayWidth)) + 2;
  for (const m of Object.values(config.models)) {
    const route = [...m.targets.map((t) => ({ t, fallback: false })), ...(m.fallbacks ?? []).map((t) => ({ t, fallback: true }))];
    const served = route.map(({ t }) => traffic.get(targetKey(m.name, t.provider, t.model)));
    const gen = served.reduce((a, x) => ({ tokens: a.tokens + (x?.genTokens ?? 0), seconds: a.seconds + (x?.genSeconds ?? 0) }), { tokens: 0, seconds: 0 });
    const tps = gen.seconds > 0 ? `${(gen.tokens / gen.seconds).toFixed(1)} tok/s` : '';
    lines.push({ text: `  ${fit(m.name, modelW)}${fit(m.capability, 12)} ${fit(m.routing, 9)}${[budgetText(m.budget), tps].filter(Boolean).join('  ')}`.trimEnd(), bold: true });
    route.forEach(({ t, fallback }, i) => {
      const tr = served[i];
      // requests answered by a later entry went past this one: it failed or was passed over
      const passed = served.slice(i + 1).reduce((n, x) => n + (x?.requests ?? 0), 0);
      const price = t.pricing ? `$${t.pricing.input_usd_per_1m}/$${t.pricing.output_usd_per_1m} per 1M` : 'free (local)';
      const live = [tr ? `${tr.requests} req${tr.errors ? `, ${tr.errors} err` : ''}` : '', passed && m.routing === 'ordered' ? `${passed} fell back` : '']
        .filter(Boolean)
        .join(', ');
      lines.push({
        text: `    ${i + 1}. ${fit(t.provider, 10)} ${fit(t.model, 36)} ${fit(price, 22)} ${live || '–'}${fallback ? '  (fallback)' : ''}`,
        tone: (passed > 0 && m.routing === 'ordered') || (tr && tr.errors > 0) ? 'warn' : tr ? 'ok' : null,
      });
    });
  }
  lines.push({ text: '' });
  lines.push({ text: 'Providers', bold: true });
  for (const [name, p] of Object.entries(config.providers)) {
    const extra = [p.service ? `unit ${p.service}` : '', budgetText(p.budget)].filter(Boolean).join('  ');
    lines.push({ text: `  ${fit(name, 12)}${fit(p.type, 18)}${fit(p.api_base, 34)} ${extra}`.trimEnd() });
  }
  const capBudgets = Object.entries(config.capabilities).filter(([, c]) => c.budget);
  if (capBudgets.length > 0) {
    lines.push({ text: '' });
    lines.push({ text: 'Capability budgets', bold: true });
    for (const [name, c] of capBudgets) lines.push({ text: `  ${fit(name, 12)}${budgetText(c.budget)}` });
  }
  lines.push({ text: '' });
  lines.push({ text: 'Files', bold: true });
  lines.push({ text: `  config   ${config.paths.configDir}` });
  lines.push({ text: `  runtime  ${config.paths.runtimeDir}` });
  lines.push({ text: `  usage    ${config.paths.usageDb}` });
  lines.push({ text: `  gateway  ${config.listen.host}:${config.listen.port}${config.gateway.master_key ? ' (master key set)' : ''}` });
  return lines;
}

/** Long lines broken at spaces to the view's width, so a whole message can be read. */
export function wrapLines(lines: readonly ViewLine[], width: number): ViewLine[] {
  const out: ViewLine[] = [];
  for (const l of lines) {
    if (displayWidth(l.text) <= width) {
      out.push(l);
      continue;
    }
    // every piece keeps the line's indent (wordWrap trims it off)
    const indent = /^ */.exec(l.text)![0].slice(0, Math.floor(width / 2));
    wordWrap(l.text, Math.max(1, width - indent.length), Number.MAX_SAFE_INTEGER).forEach((text) => out.push({ ...l, text: indent + text }));
  }
  return out;
}
