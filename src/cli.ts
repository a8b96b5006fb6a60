#!/usr/bin/env node
// The `ptui` command line (README, "Command line"). Each command loads its implementation lazily so that
// `ptui gateway` never pays for Ink/React, and `ptui config check` never opens a socket.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './config/paths.js';
import { windowSeconds } from './config/window.js';
import { closest } from './config/suggest.js';
import { ALIAS_RE } from './keys/key.js';

/** dist/console/main.js: a variable, so that tsc does not look for a source of the bundle. */
const CONSOLE_ENTRY = './console/main.js';

const VERSION: string = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;

export interface GlobalOptions {
  home?: string;
  configDir?: string;
  runtimeDir?: string;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/**
 * The dashboard and the demo have stopped their children and restored the terminal when they
 * return. A handle left by a shutdown that raced start-up (a watcher, a keep-alive socket, a
 * collector started after the quit) must not keep a headless dashboard alive once its terminal
 * is gone, as one did in a loaded CI run: exit after a short grace, normally the loop drains first.
 */
function exitSoonAfterCleanup(): void {
  setTimeout(() => process.exit(), 1000).unref();
}

function parseAlias(v: string): string {
  if (!ALIAS_RE.test(v)) throw new InvalidArgumentError('must be 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit');
  return v;
}

function parseUsd(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of dollars above 0');
  return n;
}

function parseWindowFlag(v: string): string {
  if (!(windowSeconds(v) > 0)) throw new InvalidArgumentError('must be a window such as 30m, 12h, 1d, 1w or 1mo');
  return v;
}

function parseList(v: string): string[] {
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('must be a comma-separated list of model names, none empty');
  return [...new Set(items)];
}

/** A duration from now (the budget-window grammar) or an ISO 8601 date; never in the past. */
function parseExpiry(v: string): number {
  const seconds = windowSeconds(v);
  const now = Date.now();
  const at = seconds > 0 ? now + seconds * 1000 : /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(at)) throw new InvalidArgumentError('must be a duration from now (30d, 12h) or an ISO 8601 date (2027-01-31)');
  if (at > now + 100 * 365 * 86_400_000) throw new InvalidArgumentError('is more than 100 years away');
  if (at <= now) throw new InvalidArgumentError(`is in the past (${new Date(at).toISOString()}); give a future date or a duration`);
  return at;
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function buildProgram(): Command {
  const program = new Command('ptui')
    .description('AI backend control console: dashboard and OpenAI-compatible gateway')
    .version(VERSION, '-V, --version')
    .option('--home <dir>', 'home directory (default: the package root, or $AI_BACKEND_HOME)')
    .option('--config-dir <dir>', 'config directory (default: <home>/config, or $AI_BACKEND_CONFIG_DIR)')
    .option('--runtime-dir <dir>', 'runtime directory (default: <home>/runtime, or $AI_BACKEND_RUNTIME_DIR)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText('after', ENVIRONMENT_HELP);

  program
    .command('dashboard', { isDefault: true })
    .description('the full-screen dashboard (default command)')
    .option('--no-gateway', 'do not start a gateway (one recorded in the runtime dir is still shown)')
    .option('--stop-gateway-on-exit', 'stop the gateway when the dashboard exits (default: it keeps serving)')
    .option('--host <host>', 'gateway host (default 127.0.0.1, or $AI_BACKEND_GATEWAY_HOST)')
    .addOption(new Option('--port <port>', 'gateway port (default 4000, or $AI_BACKEND_GATEWAY_PORT)').argParser(parsePort))
    .addOption(new Option('--refresh-ms <ms>', 'refresh interval').default(1000).argParser(parsePositiveInt))
    // The default command receives whatever word was not a command name: say so, with a guess.
    .allowExcessArguments(true)
    .action(async (opts, cmd: Command) => {
      if (cmd.args.length > 0) rejectUnknownCommand(program, cmd.args[0]);
      // The dashboard runs from its bundle (dist/console, built with Ink by `npm run build`):
      // it loads in a fraction of the time of Ink's many modules (scripts/bundle-console.mjs).
      const { runDashboard } = (await import(CONSOLE_ENTRY)) as typeof import('./tui/main.js');
      process.exitCode = await runDashboard({ ...globals(cmd), ...opts });
      exitSoonAfterCleanup();
    });

  program
    .command('gateway')
    .description('run the gateway in the foreground (what the dashboard starts and a systemd unit runs)')
    .addArgument(new Argument('[action]', 'status: the recorded gateway; stop: stop it gracefully').choices(['status', 'stop']))
    .option('--host <host>', 'listen host (default 127.0.0.1, or $AI_BACKEND_GATEWAY_HOST)')
    .addOption(new Option('--port <port>', 'listen port (default 4000, or $AI_BACKEND_GATEWAY_PORT)').argParser(parsePort))
    .option('--json', 'with status: machine-readable JSON')
    .action(async (action: string | undefined, opts, cmd: Command) => {
      if (action) {
        const control = await import('./tui/gatewayChild/control.js');
        process.exitCode = action === 'status' ? await control.runGatewayStatus({ ...globals(cmd), json: Boolean(opts.json) }) : await control.runGatewayStop(globals(cmd));
        return;
      }
      const { runGateway } = await import('./gateway/main.js');
      process.exitCode = await runGateway({ ...globals(cmd), ...opts });
      // An extra callback module may hold a timer or socket of its own (or never have finished
      // loading): the gateway has flushed and closed what it owns, so it goes.
      exitSoonAfterCleanup();
    });

  const config = program.command('config').description('check, export or print the configuration');
  config
    .command('check')
    .description('validate all config files; exit 1 with one line per problem')
    .addHelpText(
      'after',
      '\nPrints one line per problem, `file: key.path: message`, errors and warnings alike\n' +
        '(an unset ${VAR} is a warning). Exit 0 when there are no errors, 1 otherwise.',
    )
    .action(async (_opts, cmd: Command) => {
      const { runConfigCheck } = await import('./config/check.js');
      process.exitCode = runConfigCheck(globals(cmd));
    });
  config
    .command('export')
    .description('write runtime/budget_config.json and runtime/litellm_config.yaml atomically')
    .addHelpText('after', '\nAPI keys are written as os.environ/VAR references, never as values.')
    .action(async (_opts, cmd: Command) => {
      const { runConfigExport } = await import('./config/export.js');
      process.exitCode = runConfigExport(globals(cmd));
    });
  config
    .command('print')
    .description('print the logical config and routing table, redacted')
    .option('--json', 'machine-readable JSON')
    .action(async (opts, cmd: Command) => {
      const { runConfigPrint } = await import('./config/print.js');
      process.exitCode = runConfigPrint({ ...globals(cmd), json: Boolean(opts.json) });
    });

  addKeysCommands(program);

  program
    .command('demo')
    .description('dashboard + gateway on a demo config with a simulated upstream and synthetic traffic')
    .addOption(new Option('--refresh-ms <ms>', 'refresh interval').default(1000).argParser(parsePositiveInt))
    .action(async (opts, cmd: Command) => {
      const { runDemo } = await import('./demo.js');
      process.exitCode = await runDemo({ ...globals(cmd), ...opts });
      exitSoonAfterCleanup();
    });

  return program;
}

function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description('virtual API keys: create, list, revoke, rotate (the gateway sees changes within 1 s)');
  keys
    .command('create')
    .description('create a virtual key and print it once (only its SHA-256 is stored)')
    .requiredOption('--alias <name>', 'unique name of the key (team, app): shown in logs, metrics and the console', parseAlias)
    .addOption(new Option('--budget-usd <usd>', 'spend limit over --budget-window').argParser(parseUsd))
    .option('--budget-window <window>', 'budget window: 30m, 12h, 1d, 1w, 1mo', parseWindowFlag)
    .addOption(new Option('--budget-action <action>', 'when the budget is spent: warn or block').choices(['warn', 'block']))
    .addOption(new Option('--rpm <n>', 'requests per minute').argParser(parsePositiveInt))
    .addOption(new Option('--tpm <n>', 'tokens per minute (prompt + completion)').argParser(parsePositiveInt))
    .option('--models <m1,m2>', 'the logical models this key may use (default: all)', parseList)
    .option('--expires <when>', 'a duration from now (30d, 12h) or an ISO 8601 date', parseExpiry)
    .addHelpText('after', '\nThe key goes to stdout alone (KEY=$(ptui keys create --alias app)); notes go to stderr.')
    .action(async (opts, cmd: Command) => {
      const { runKeysCreate, parseLimits } = await import('./keys/commands.js');
      const hasBudget = opts.budgetUsd !== undefined || opts.budgetWindow !== undefined || opts.budgetAction !== undefined;
      if (hasBudget && (opts.budgetUsd === undefined || opts.budgetWindow === undefined)) {
        cmd.error('error: a budget needs both --budget-usd and --budget-window (and optionally --budget-action)', { exitCode: 2 });
      }
      let limits;
      try {
        limits = parseLimits({
          budget: hasBudget ? { max_budget_usd: opts.budgetUsd, budget_window: opts.budgetWindow, action: opts.budgetAction ?? 'warn' } : undefined,
          rpm: opts.rpm,
          tpm: opts.tpm,
          models: opts.models,
        });
      } catch (err) {
        cmd.error(`error: ${(err as Error).message}`, { exitCode: 2 });
      }
      process.exitCode = await runKeysCreate(globals(cmd), { alias: opts.alias, limits, expiresAt: opts.expires ?? null });
    });
  keys
    .command('list')
    .description('aliases, limits, expiry, last use and spend per window of every key not revoked')
    .option('--json', 'machine-readable JSON')
    .action(async (opts, cmd: Command) => {
      const { runKeysList } = await import('./keys/commands.js');
      process.exitCode = await runKeysList({ ...globals(cmd), json: Boolean(opts.json) });
    });
  const byAlias = [
    ['revoke', 'revoke the key of an alias (the gateway refuses it within 1 s)', 'runKeysRevoke'],
    ['rotate', 'a new key with the same alias, limits and expiry; the old one is revoked', 'runKeysRotate'],
  ] as const;
  for (const [name, description, run] of byAlias) {
    keys
      .command(name)
      .description(description)
      .argument('<alias>', `the key to ${name}`, parseAlias)
      .action(async (alias: string, _opts, cmd: Command) => {
        const commands = await import('./keys/commands.js');
        process.exitCode = await commands[run](globals(cmd), alias);
      });
  }
}

const ENVIRONMENT_HELP = `
Paths and environment (flags win over variables, variables over defaults):
  home            --home DIR          AI_BACKEND_HOME          default: the package root
  config dir      --config-dir DIR    AI_BACKEND_CONFIG_DIR    default: <home>/config
  runtime dir     --runtime-dir DIR   AI_BACKEND_RUNTIME_DIR   default: <home>/runtime
  cache dir                           AI_BACKEND_CACHE_DIR     default: <home>/.litellm_cache
  cache on/off                        AI_BACKEND_ENABLE_CACHE  default: off
  gateway listen  --host, --port      AI_BACKEND_GATEWAY_HOST, AI_BACKEND_GATEWAY_PORT (127.0.0.1:4000)
  master key                          AI_BACKEND_MASTER_KEY    default: none (no auth)
  <home>/.env is read if present; the environment wins over it.

Examples:
  ptui                       dashboard, with the gateway as a supervised child
  ptui gateway --port 4000   the gateway alone (what a systemd unit runs)
  ptui config check          validate config/*.yaml
  ptui demo                  everything live against a simulated upstream`;

function rejectUnknownCommand(program: Command, word: string): never {
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  const guess = closest(word, names);
  program.error(`error: unknown command '${word}'${guess ? ` (did you mean '${guess}'?)` : ''}`, {
    exitCode: 2,
    code: 'commander.unknownCommand',
  });
}

/** Every command, however deep, exits through main() and ends a usage error with its own hint. */
function configureErrors(cmd: Command, name: string): void {
  cmd.exitOverride().showHelpAfterError(`(run '${name} --help' for usage)`);
  for (const sub of cmd.commands) configureErrors(sub, `${name} ${sub.name()}`);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  configureErrors(program, 'ptui');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // `ptui config` alone shows its help as an error (exit code 1 from commander): a usage error.
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      // unknown command/option, missing or invalid argument: usage error
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ptui: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
