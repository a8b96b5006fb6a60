#!/usr/bin/env node
// The `ptui` command line (README, "Command line"). Each command loads its implementation lazily so that
// `ptui gateway` never pays for Ink/React, and `ptui config check` never opens a socket.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './config/paths.js';
import { closest } from './config/suggest.js';

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
      const { runDashboard } = await import('./tui/main.js');
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
