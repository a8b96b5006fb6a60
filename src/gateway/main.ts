// `ptui gateway`: load config, open the usage log, assemble the pipeline, serve, hot-reload,
// and drain on SIGTERM/SIGINT. Startup failures are one clear stderr line and exit 1.
import fs from 'node:fs';
import path from 'node:path';
import { formatProblem, loadConfig, type LoadOptions, type ResolvedConfig } from '../config/load.js';
import { newInstanceSecret, removeInstanceRecord, writeInstanceRecord } from '../config/instance-record.js';
import { PACKAGE_ROOT } from '../config/paths.js';
import { RedisKeyStore } from '../keys/redis-store.js';
import { SqliteKeyStore } from '../keys/sqlite.js';
import { UsageLog } from '../usage/log.js';
import { buildPipeline } from './callbacks/index.js';
import { createLogger, type Logger } from './log.js';
import { KeyRing } from './keys/ring.js';
import { createMetrics } from './metrics.js';
import type { CallbackDeps } from './pipeline.js';
import { exportBudgetConfig, watchConfigDir } from './reload.js';
import { describeHolder, holderMessage, tryLockRuntimeDir, type InstanceLock } from './instance-lock.js';
import { DEFAULT_REFRESH_MS, EngineMonitor } from '../engines/monitor.js';
import { registerEngineGauges } from './engine-metrics.js';
import { GatewayServer } from './http/server.js';
import type { SharedState } from './shared/state.js';
import { Routing } from './routing/routing.js';
import { Upstreams } from './upstream.js';

export interface GatewayOptions {
  home?: string;
  configDir?: string;
  runtimeDir?: string;
  host?: string;
  port?: number;
}

/** How long SIGTERM waits for requests in flight. */
export const DRAIN_MS = 10_000;

function fatal(message: string): number {
  process.stderr.write(`ptui gateway: ${message}\n`);
  return 1;
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function errorsOf(problems: ReturnType<typeof loadConfig>['problems']): string {
  return problems
    .filter((p) => p.severity === 'error')
    .map(formatProblem)
    .join('; ');
}

/** A gateway that cannot write its record still serves; the dashboard then finds it by its port. */
function recordInstance(runtimeDir: string, record: Parameters<typeof writeInstanceRecord>[1], log: Logger): void {
  try {
    writeInstanceRecord(runtimeDir, record);
  } catch (err) {
    log.error('instance_record_failed', { error: (err as Error).message });
  }
}

/** How often engines are scraped; PTUI_ENGINE_REFRESH_MS overrides it (tests, busy boxes). */
function engineRefreshMs(): number {
  const v = Number(process.env.PTUI_ENGINE_REFRESH_MS);
  return Number.isFinite(v) && v >= 50 ? v : DEFAULT_REFRESH_MS;
}

/** Resolves with the exit code once the server has shut down (or failed to start). */
export async function runGateway(opts: GatewayOptions = {}): Promise<number> {
  const log = createLogger();
  const loadOpts: LoadOptions = { home: opts.home, configDir: opts.configDir, runtimeDir: opts.runtimeDir, host: opts.host, port: opts.port };
  const loaded = loadConfig(loadOpts);
  if (!loaded.config) return fatal(`invalid config: ${errorsOf(loaded.problems)}`);
  for (const p of loaded.problems) log.warn('config_warning', { problem: formatProblem(p) });
  const config: ResolvedConfig = loaded.config;

  const usageDir = path.dirname(config.paths.usageDb);
  try {
    fs.mkdirSync(usageDir, { recursive: true });
    fs.accessSync(usageDir, fs.constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fatal(`runtime dir ${config.paths.runtimeDir} is not writable (${e.code ?? e.message}); set --runtime-dir or AI_BACKEND_RUNTIME_DIR`);
  }
  // Before the usage log opens: a second gateway must not write a single row.
  let lock: InstanceLock | null;
  try {
    lock = tryLockRuntimeDir(config.paths.runtimeDir);
  } catch (err) {
    return fatal((err as Error).message);
  }
  if (!lock) return fatal(holderMessage(config.paths.runtimeDir, await describeHolder(config.paths.runtimeDir)));
  try {
    return await runLocked(config, loadOpts, log);
  } finally {
    lock.release();
  }
}

async function runLocked(first: ResolvedConfig, loadOpts: LoadOptions, log: Logger): Promise<number> {
  let config = first;
  let usage: UsageLog;
  try {
    // Rows of one event-loop turn share a transaction: one WAL commit per turn instead of per
    // request. A success's answer ends only after its turn committed, so a kill -9 can lose only
    // rows of answers no client has seen complete; SIGTERM flushes them.
    usage = UsageLog.open(config.paths.usageDb, {}, { batch: 'tick' });
  } catch (err) {
    // UsageLog.open already names the file and the reason ("cannot open usage log <path>: ...").
    return fatal((err as Error).message);
  }

  const metrics = createMetrics();
  let shared: SharedState | undefined;
  if (config.gateway.shared) {
    // Before listening: wrong credentials or a gateway_id held by another gateway stop the start.
    // Loaded only here: the Redis client costs a gateway without shared mode 0.2-0.3 s of start.
    const { SharedState } = await import('./shared/state.js');
    shared = new SharedState(config.gateway.shared, config.paths.home, config.paths.runtimeDir, log, metrics.registry);
    const refused = await shared.start();
    if (refused !== null) {
      await shared.close();
      usage.close();
      return fatal(refused);
    }
  }
  // The keys are loaded before the pipeline is built, so key budgets are seeded with the rest.
  // In shared mode they are in Redis, read over the same connection as the shared budgets.
  const keyStore = shared
    ? new RedisKeyStore(shared.link.client, `Redis at ${shared.link.url}`, config.paths.sharedKeysJson)
    : SqliteKeyStore.reader(config.paths.keysDb);
  const keys = new KeyRing(keyStore, log);
  await keys.start();
  const deps: CallbackDeps = { getConfig: () => config, metrics, log, usage, shared, keys };
  let pipeline;
  try {
    pipeline = await buildPipeline(deps, config);
  } catch (err) {
    await shared?.close();
    keys.close();
    usage.close();
    return fatal((err as Error).message);
  }
  // this gateway's buckets into Redis, and the others' spend read, before the first request
  await shared?.converge();
  const { manager, budgets } = pipeline;
  exportBudgetConfig(config, log);
  const upstreams = new Upstreams();
  const gatewayVersion = version();
  const instanceSecret = newInstanceSecret();
  let selfAddress: { host: string; port: number } | null = null;
  const engines = new EngineMonitor({ refreshMs: engineRefreshMs(), self: () => selfAddress });
  engines.update(config.providers);
  registerEngineGauges(metrics.registry, engines);
  const routing = new Routing(engines, log);
  const server = new GatewayServer({ manager, budgets, usage, metrics, upstreams, routing, keys, log, version: gatewayVersion, shared, instanceSecret }, config);

  const closeAll = async () => {
    keys.close();
    await engines.stop();
    await manager.close();
    await shared?.close();
    usage.close();
    await upstreams.close();
  };

  // Reloads run one after another; a burst of changes is already debounced by the watcher.
  let reloading = Promise.resolve();
  const reload = () => {
    reloading = reloading.then(async () => {
      const r = loadConfig(loadOpts);
      if (!r.config) {
        const message = errorsOf(r.problems);
        server.setConfigError(message);
        metrics.configReloads.inc({ result: 'failure' });
        log.error('config_invalid', { error: message, note: 'keeping the last good config' });
        return;
      }
      const next = r.config;
      if (next.listen.host !== config.listen.host || next.listen.port !== config.listen.port) {
        log.warn('config_restart_needed', { key: 'listen', note: 'the listen address changes on restart' });
      }
      if (JSON.stringify(next.gateway.shared) !== JSON.stringify(config.gateway.shared)) {
        log.warn('config_restart_needed', { key: 'shared', note: 'the shared Redis and gateway_id change on restart' });
      }
      if (JSON.stringify(next.gateway.callbacks) !== JSON.stringify(config.gateway.callbacks)) {
        log.warn('config_restart_needed', { key: 'callbacks', note: 'callback modules load on restart' });
      }
      config = next;
      server.applyConfig(next);
      engines.update(next.providers);
      await manager.reconfigure(next);
      exportBudgetConfig(next, log);
      metrics.configReloads.inc({ result: 'success' });
      log.info('config_reloaded', { models: Object.keys(next.models).length, providers: Object.keys(next.providers).length });
    });
  };
  const watcher = watchConfigDir(config.paths.configDir, reload, (err) => log.error('config_watch_failed', { error: err.message }));
  // Listening only once the watcher sees edits, so 'listening' means reloads work too.
  await watcher.ready;

  const { host, port } = config.listen;
  try {
    const addr = await server.listen(host, port);
    recordInstance(config.paths.runtimeDir, { pid: process.pid, host, port: addr.port, secret: instanceSecret, started_at: new Date().toISOString(), version: gatewayVersion }, log);
    shared?.setPort(addr.port);
    selfAddress = { host, port: addr.port };
    engines.start();
    log.info('listening', { host, port: addr.port, url: `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}` });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    await watcher.close();
    await closeAll();
    if (e.code === 'EADDRINUSE') return fatal(`port ${port} on ${host} is already in use (another gateway running? use --port)`);
    if (e.code === 'EACCES') return fatal(`no permission to listen on ${host}:${port}`);
    if (e.code === 'EADDRNOTAVAIL') return fatal(`cannot listen on ${host}:${port}: address not available`);
    return fatal(`cannot listen on ${host}:${port}: ${e.message}`);
  }

  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  await new Promise<void>((resolve) => {
    let signalled = false;
    onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        // A second signal: stop waiting for slow requests.
        log.warn('shutdown_forced', { signal });
        server.http.closeAllConnections();
        return;
      }
      signalled = true;
      log.info('shutting_down', { signal, in_flight: server.inFlight });
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });

  await server.shutdown(DRAIN_MS);
  await watcher.close();
  await reloading;
  await closeAll();
  removeInstanceRecord(config.paths.runtimeDir, instanceSecret);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  log.info('stopped', {});
  return 0;
}
