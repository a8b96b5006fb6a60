// The lines of the full-screen views (help, routing/config, journal), built from data so they
// can be tested without a terminal.
import type { ConfigProblem, ResolvedConfig } from '../../config/load.js';
import { formatProblem } from '../../config/load.js';
import type { StoredUsageRow } from '../../usage/schema.js';
import type { ViewLine } from '../panels/TextView.js';
import { helpRows } from '../keys/bindings.js';
import { panelList } from '../panels/catalog.js';
import { clock, displayWidth, fit, usd, wordWrap } from './format.js';

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
    const t = out.get(key) ?? { requests: 0, errors: 0 };
    t.requests++;
    if (r.status === 'error') t.errors++;
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
  lines.push({ text: `Routing: logical model → targets in order (later ones are fallbacks) · traffic over the last ${trafficWindowS}s`, bold: true });
  const modelW = Math.max(8, ...Object.keys(config.models).map(displayWidth)) + 2;
  for (const m of Object.values(config.models)) {
    lines.push({ text: `  ${fit(m.name, modelW)}${fit(m.capability, 12)} ${budgetText(m.budget)}`.trimEnd(), bold: true });
    const served = m.targets.map((t) => traffic.get(targetKey(m.name, t.provider, t.model)));
    m.targets.forEach((t, i) => {
      const tr = served[i];
      // requests answered by a later target went past this one: it failed or was skipped
      const passed = served.slice(i + 1).reduce((n, x) => n + (x?.requests ?? 0), 0);
      const price = t.pricing ? `$${t.pricing.input_usd_per_1m}/$${t.pricing.output_usd_per_1m} per 1M` : 'free (local)';
      const live = [tr ? `${tr.requests} req${tr.errors ? `, ${tr.errors} err` : ''}` : '', passed ? `${passed} fell back` : '']
        .filter(Boolean)
        .join(', ');
      lines.push({
        text: `    ${i + 1}. ${fit(t.provider, 10)} ${fit(t.model, 36)} ${fit(price, 22)} ${live || '–'}`,
        tone: passed > 0 || (tr && tr.errors > 0) ? 'warn' : tr ? 'ok' : null,
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

/** journalctl output, with lines that report a failure in red. */
export function journalLines(lines: readonly string[]): ViewLine[] {
  return lines.map((l) => ({ text: l, tone: /\b(error|failed|fatal|panic)\b/i.test(l) ? 'bad' : null }));
}

/** Long lines broken at spaces to the view's width, so a whole message can be read. */
export function wrapLines(lines: readonly ViewLine[], width: number): ViewLine[] {
  const out: ViewLine[] = [];
  for (const l of lines) {
    if (displayWidth(l.text) <= width) {
      out.push(l);
      continue;
    }
    const indent = /^ */.exec(l.text)![0];
    wordWrap(l.text, width, Number.MAX_SAFE_INTEGER).forEach((text, i) => out.push({ ...l, text: i === 0 ? text : indent + text }));
  }
  return out;
}

const LEVEL_TONE: Record<string, ViewLine['tone']> = { error: 'bad', fatal: 'bad', warn: 'warn', warning: 'warn' };

/** The gateway's JSON log lines as "time level event key=value …"; other lines as they are. */
export function gatewayLogLines(lines: readonly string[]): ViewLine[] {
  return lines.map((line) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return { text: line, tone: /\b(error|fatal)\b/i.test(line) ? 'bad' : null };
    }
    if (!o || typeof o !== 'object') return { text: line };
    const { ts, level, event, ...rest } = o;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const text = [typeof ts === 'string' ? clock(ts) : '', String(level ?? ''), String(event ?? ''), ...fields].filter(Boolean).join(' ');
    return { text, tone: LEVEL_TONE[String(level)] ?? null };
  });
}
