// `ptui config print` (and scripts/print-logical-config): the routing table and budgets as an
// operator reads them, or `--json` for machines. Redacted: see logical.ts and redact.ts.
import { loadConfig, type LoadOptions, type ResolvedConfig } from './load.js';
import { logicalConfig, type LogicalConfig, type LogicalTarget } from './logical.js';
import { formatProblem, hasErrors } from './problems.js';
import { scrubSecretValues } from './redact.js';

export interface PrintOptions extends LoadOptions {
  json?: boolean;
}

/** Left-aligned columns, two spaces apart; numbers right-aligned where the caller pads them. */
export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

function price(t: LogicalTarget): string {
  if (!t.pricing) return 'free';
  return `$${t.pricing.input_usd_per_1m} in / $${t.pricing.output_usd_per_1m} out per 1M`;
}

function bytes(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2) return `${Math.round((n / 1024 ** 2) * 10) / 10} MiB`;
  return `${n} B`;
}

export function renderLogicalText(lc: LogicalConfig): string {
  const out: string[] = [];
  out.push(`ptui config  home ${lc.paths.home}`);
  out.push(`  config dir ${lc.paths.config_dir}   runtime dir ${lc.paths.runtime_dir}`);
  out.push('');
  out.push('Routing (logical model -> capability -> targets, tried in order unless balanced; fallbacks last)');
  const rows = [['model', 'capability', '#', 'provider', 'type', 'api_base', 'concrete model', 'pricing']];
  for (const r of lc.routes) {
    r.targets.forEach((t, i) => {
      const model = i === 0 ? (r.routing === 'balanced' ? `${r.model} (balanced)` : r.model) : '';
      const order = t.fallback ? `${t.order} fallback` : String(t.order);
      rows.push([model, i === 0 ? r.capability : '', order, t.provider, t.type, t.api_base, t.model, price(t)]);
    });
  }
  out.push(table(rows));
  out.push('');
  out.push('Providers');
  out.push(
    table([
      ['name', 'type', 'api_base', 'api_key', 'service', 'timeout'],
      ...lc.providers.map((p) => [p.name, p.type, p.api_base, p.api_key ?? '-', p.service ?? '-', `${p.timeout_s}s`]),
    ]),
  );
  out.push('');
  out.push('Budgets');
  if (lc.budgets.length === 0) out.push('  none');
  else {
    out.push(
      table([
        ['scope', 'target', 'max_usd', 'window', 'seconds', 'action'],
        ...lc.budgets.map((b) => [
          b.scope,
          b.target,
          b.max_budget_usd.toFixed(2),
          b.budget_window,
          String(b.window_seconds),
          b.action,
        ]),
      ]),
    );
  }
  out.push('');
  out.push('Gateway');
  const g = lc.gateway;
  out.push(
    table([
      ['listen', g.listen],
      ['master_key', `${g.master_key ?? 'none'}${g.auth ? '' : ' -> no auth'}`],
      ['max body', bytes(g.max_body_bytes)],
      ['guardrails', `secrets: ${g.guardrails.secrets}`],
      ['cache', `${g.cache.enabled ? 'on' : 'off'} (ttl ${g.cache.ttl_s}s, max ${bytes(g.cache.max_bytes)}, dir ${lc.paths.cache_dir})`],
      ['callbacks', g.callbacks.length ? g.callbacks.join(', ') : 'none'],
      ['usage log', lc.paths.usage_db],
      ['systemctl', lc.systemctl_scope],
    ]),
  );
  if (lc.variables.length) {
    out.push('');
    out.push('Variables');
    out.push(table(lc.variables.map((v) => [`\${${v.name}}`, v.set ? 'set' : 'unset', v.used_at.join('; ')])));
  }
  return `${out.join('\n')}\n`;
}

const SECRETISH_NAME_RE = /KEY|TOKEN|SECRET|PASS/i;

/** Names whose values must never be printed, for the final scrub. */
function secretVarNames(config: ResolvedConfig): string[] {
  const names = new Set<string>(['AI_BACKEND_MASTER_KEY']);
  for (const r of config.varRefs) {
    const leaf = String(r.path[r.path.length - 1] ?? '');
    if (leaf === 'api_key' || leaf === 'master_key' || SECRETISH_NAME_RE.test(r.name)) names.add(r.name);
  }
  return [...names];
}

export function renderConfigPrint(config: ResolvedConfig, json: boolean): string {
  const lc = logicalConfig(config);
  const text = json ? `${JSON.stringify(lc, null, 2)}\n` : renderLogicalText(lc);
  return scrubSecretValues(text, config.env, secretVarNames(config));
}

export function runConfigPrint(opts: PrintOptions): number {
  const { config, problems } = loadConfig(opts);
  if (!config || hasErrors(problems)) {
    for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    process.stderr.write('config print: the config has errors (see above; ptui config check)\n');
    return 1;
  }
  process.stdout.write(renderConfigPrint(config, Boolean(opts.json)));
  return 0;
}
