// One dashboard session: wires the collectors, the usage and budget feeds and the gateway
// supervisor to the Ink app, owns the terminal for the session, and undoes everything on the
// way out, whichever way out it is. Loaded through main.tsx, which sets up React first.

import fs from 'node:fs';
import path from 'node:path';
import { render } from 'ink';
import { PACKAGE_ROOT } from '../config/paths.js';
import { hasErrors } from '../config/problems.js';
import { loadConfig } from '../config/load.js';
import { App } from './App.js';
import { ThemeProvider, colorAllowed, makeTheme } from './contexts/ThemeContext.js';
import { SourcesProvider, type DashboardSources } from './contexts/SourcesContext.js';
import { ConfigStore } from './data/configStore.js';
import { ValueStore, sameData } from '../system/store.js';
import { emptyHostState } from '../system/types.js';
import { FrameClock } from './data/frameClock.js';
import { cleanedAction, mirrorInto } from './data/boundary.js';
import type { Collectors, PanelStores } from './data/collectors.js';
import { INITIAL_BUDGETS, INITIAL_ENGINES, INITIAL_GPU, INITIAL_SERVICES, INITIAL_USAGE } from './data/initialState.js';
import { GatewaySupervisor } from './gatewayChild/supervisor.js';
import { failedAttempts } from './gatewayChild/logTail.js';
import { FileFollower } from './data/fileFollower.js';
import { JournalFollower } from './data/journalFollower.js';
import { tracked, type Follower } from './data/lineFollower.js';
import { gatewayLogLine, journalLine } from './presentation/logLines.js';
import { TerminalSession, installExitHandlers, type ExitReason } from './terminal.js';

export interface DashboardOptions {
  home?: string;
  configDir?: string;
  runtimeDir?: string;
  host?: string;
  port?: number;
  /** false with --no-gateway: never start a gateway */
  gateway: boolean;
  /** quitting (or a hangup, or a crash) stops the gateway too; by default it keeps serving */
  stopGatewayOnExit?: boolean;
  refreshMs: number;
  /** the title bar's first word ("ptui", "ptui demo") */
  title?: string;
  /** runs on quit before the gateway is stopped or left (the demo stops its clients here) */
  beforeStop?: () => Promise<void>;
}

/** Error rate and latency cover this window of the usage log; requests/s the shorter one. */
const STATS_WINDOW_MS = 60_000;
const RATE_WINDOW_MS = 10_000;
const SERVICES_MIN_REFRESH_MS = 2000;
const SERVICES_MAX_REFRESH_MS = 5000;

function listenFromEnv(opts: DashboardOptions, env: NodeJS.ProcessEnv): { host: string; port: number } {
  const envPort = Number(env.AI_BACKEND_GATEWAY_PORT);
  return {
    host: opts.host ?? env.AI_BACKEND_GATEWAY_HOST ?? '127.0.0.1',
    port: opts.port ?? (Number.isInteger(envPort) && envPort > 0 && envPort < 65536 ? envPort : 4000),
  };
}

export async function runSession(opts: DashboardOptions): Promise<number> {
  const { stdout, stdin, stderr } = process;
  if (!stdout.isTTY || !stdin.isTTY) {
    stderr.write('ptui: the dashboard needs a terminal (for the gateway alone run `ptui gateway`)\n');
    return 1;
  }
  const refreshMs = Math.max(100, opts.refreshMs);
  const configStore = new ConfigStore({ home: opts.home, configDir: opts.configDir, runtimeDir: opts.runtimeDir, host: opts.host, port: opts.port });
  const first = configStore.getSnapshot();
  const paths = first.paths;
  const listen = first.config?.listen ?? listenFromEnv(opts, first.config?.env ?? process.env);

  // The panels' stores exist before their collectors: the first frame does not wait for them.
  const stores: PanelStores = {
    gpu: new ValueStore(INITIAL_GPU, sameData),
    host: new ValueStore(emptyHostState(paths.runtimeDir), sameData),
    services: new ValueStore(INITIAL_SERVICES, sameData),
    usage: new ValueStore(INITIAL_USAGE),
    budgets: new ValueStore(INITIAL_BUDGETS),
    engines: new ValueStore(INITIAL_ENGINES, sameData),
  };
  const logFile = path.join(paths.logsDir, 'gateway.log');
  const supervisor = new GatewaySupervisor({
    host: listen.host,
    port: listen.port,
    spawn: opts.gateway,
    runtimeDir: paths.runtimeDir,
    stopOnExit: opts.stopGatewayOnExit === true || first.config?.gateway.console.stop_gateway_on_exit === true,
    args: [
      path.join(PACKAGE_ROOT, 'bin', 'ptui'),
      '--home',
      paths.home,
      '--config-dir',
      paths.configDir,
      '--runtime-dir',
      paths.runtimeDir,
      'gateway',
      '--host',
      listen.host,
      '--port',
      String(listen.port),
    ],
    logFile,
    // A gateway the console starts reads its engines at the console's refresh, so while traffic
    // flows what the Services panel shows is at most two refreshes old (on a quiet box the
    // console asks less often: data/pollRhythm.ts), unless the environment says otherwise.
    env: process.env.PTUI_ENGINE_REFRESH_MS ? process.env : { ...process.env, PTUI_ENGINE_REFRESH_MS: String(refreshMs) },
  });
  let collectors: Collectors | null = null;
  const collectorsReady = import('./data/collectors.js').then((m) => {
    collectors = m.startCollectors(stores, {
      paths,
      config: configStore,
      refreshMs,
      // Unit state changes rarely and an action refreshes it at once; each poll is a process
      // spawn (about 1 % of a core per second on a small box), so units are polled every five
      // refreshes, between 2 s and 5 s (never more often than the refresh itself).
      servicesRefreshMs: Math.max(refreshMs, SERVICES_MIN_REFRESH_MS, Math.min(SERVICES_MAX_REFRESH_MS, refreshMs * 5)),
      statsWindowMs: STATS_WINDOW_MS,
      rateWindowMs: RATE_WINDOW_MS,
      // only a gateway that proved it is ours is asked (with the master key) for its figures
      gatewayUrl: () => supervisor.trustedUrl,
    });
    return collectors;
  });
  collectorsReady.catch((e: Error) => {
    // Without collectors the panels would wait forever: say why instead.
    const notice = `data collection failed to load: ${e.message}`;
    stores.gpu.set({ ...INITIAL_GPU, available: false, notice });
    stores.services.set({ ...INITIAL_SERVICES, notice });
    stores.usage.set({ ...INITIAL_USAGE, notice });
    stores.budgets.set({ ...INITIAL_BUDGETS, notice });
  });
  const offConfig = configStore.subscribe(() => collectors?.setConfig(configStore.getSnapshot().config));
  // What the App reads of the supervisor and the config, cleaned like everything from outside.
  const shown = { gateway: new ValueStore(supervisor.getSnapshot(), sameData), config: new ValueStore(first) };
  const offShown = [mirrorInto(supervisor, shown.gateway), mirrorInto(configStore, shown.config)];
  // Changes gather for a quarter of a refresh (at most 200 ms) and are drawn as one frame; data
  // frames keep a refresh apart, so sources out of phase share a frame (frameClock.ts).
  const frame = new FrameClock(Math.min(200, refreshMs / 4), 1000, Math.min(1000, refreshMs));
  const unfollow = frame.follow([stores.gpu, stores.host, stores.services, stores.usage, stores.budgets, stores.engines, shown.gateway, shown.config]);

  /** An action of the collectors once they have loaded, its answer cleaned like everything from outside. */
  const viaCollectors = <A extends unknown[], R>(pick: (c: Collectors) => (...args: A) => Promise<R>) =>
    cleanedAction(async (...args: A) => pick(await collectorsReady)(...args));

  // The followed logs open now (the journal view's journalctl child): ended on the way out.
  const openFollowers = new Set<Follower>();

  let resolveQuit: (code: number) => void = () => {};
  const quitRequested = new Promise<number>((resolve) => (resolveQuit = resolve));

  const sources: DashboardSources = {
    ...stores,
    ...shown,
    frame,
    refreshMs,
    rateWindowS: RATE_WINDOW_MS / 1000,
    statsWindowS: STATS_WINDOW_MS / 1000,
    title: opts.title ?? 'ptui',
    actions: {
      serviceAction: cleanedAction(async (unit, verb) => (await collectorsReady).runServiceAction(unit, verb)),
      // followers clean each line as they read it (lineFollower.ts)
      follow: async (target) =>
        tracked(
          openFollowers,
          target.kind === 'journal'
            ? new JournalFollower((await collectorsReady).journalFollowCommand(target.unit), (e) => journalLine(e, target.unit))
            : new FileFollower({ file: logFile, format: gatewayLogLine, missingNote: `no ${logFile} yet: the gateway writes it once the console starts it` }),
        ),
      unitState: viaCollectors((c) => c.unitState),
      providers: {
        drain: viaCollectors((c) => c.providers.drain),
        undrain: viaCollectors((c) => c.providers.undrain),
        keepDrained: (name) => collectors?.providers.keepDrained(name),
        routing: viaCollectors((c) => c.providers.routing),
        engine: viaCollectors((c) => c.providers.engine),
      },
      exportConfig: cleanedAction(async () => {
        const { exportConfig } = await import('../config/export.js');
        // Export what is on disk now, not what was loaded at start.
        const { config, problems } = loadConfig({ home: opts.home, configDir: opts.configDir, runtimeDir: opts.runtimeDir });
        if (!config || hasErrors(problems)) return { ok: false, message: 'config export: config invalid, nothing written (c shows the errors)' };
        try {
          const r = exportConfig(config);
          const warn = r.warnings.length > 0 ? ` (${r.warnings.length} warnings: ptui config export lists them)` : '';
          return { ok: true, message: `wrote ${path.basename(r.budgetPath)} and ${path.basename(r.litellmPath)}${warn}` };
        } catch (e) {
          return { ok: false, message: `config export: ${(e as Error).message}` };
        }
      }),
      restartGateway: cleanedAction(() => supervisor.restart()),
      filterRequests: (text) => void collectorsReady.then((c) => c.filterRequests(text), () => {}),
      usageSeries: cleanedAction(async (scope, target, sinceMs) => (await collectorsReady).usageSeries(scope, target, sinceMs)),
      requestAttempts: cleanedAction(async (requestId) => failedAttempts(logFile, requestId)),
      quit: () => resolveQuit(0),
    },
  };

  const terminal = new TerminalSession(stdout, stdin);
  const uninstall = installExitHandlers((reason: ExitReason) => {
    if (reason.kind === 'signal') {
      resolveQuit(reason.signal === 'SIGINT' ? 130 : 0);
      return;
    }
    // A crash: the terminal first (synchronously), then the child, then the reason.
    terminal.restore();
    supervisor.killNow();
    for (const f of openFollowers) f.killNow();
    const err = reason.error;
    stderr.write(`ptui: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });

  // PTUI_RENDER_STATS=<file>: how many frames Ink drew and what they cost (bench/dashboard.mjs).
  const renderStats = process.env.PTUI_RENDER_STATS ? renderCounter(process.env.PTUI_RENDER_STATS) : null;
  terminal.enter();
  const ink = render(
    <ThemeProvider theme={makeTheme(colorAllowed())}>
      <SourcesProvider sources={sources}>
        <App />
      </SourcesProvider>
    </ThemeProvider>,
    { exitOnCtrlC: false, patchConsole: true, maxFps: 30, onRender: renderStats?.onRender },
  );
  // The first frame is out; the collectors' module loads meanwhile and fills the panels.
  frame.start();
  void configStore.watch();
  void supervisor.start();

  let code: number;
  try {
    code = await Promise.race([quitRequested, ink.waitUntilExit().then(() => 0)]);
  } catch (e) {
    terminal.restore();
    stderr.write(`ptui: ${(e as Error).stack ?? String(e)}\n`);
    code = 1;
  }
  ink.unmount();
  ink.cleanup();
  const started = await collectorsReady.catch(() => null);
  await started?.releaseDrains();
  started?.stop();
  await Promise.all([...openFollowers].map((f) => f.stop()));
  offConfig();
  offShown.forEach((off) => off());
  unfollow();
  frame.stop();
  terminal.restore();
  await opts.beforeStop?.().catch(() => {});
  await Promise.all([supervisor.stop(), configStore.close()]);
  uninstall();
  renderStats?.save();
  return code;
}

function renderCounter(file: string) {
  const started = Date.now();
  let frames = 0;
  let renderMs = 0;
  return {
    onRender: ({ renderTime }: { renderTime: number }) => {
      frames++;
      renderMs += renderTime;
    },
    save: () => fs.writeFileSync(file, JSON.stringify({ frames, renderMs, seconds: (Date.now() - started) / 1000 }) + '\n'),
  };
}
