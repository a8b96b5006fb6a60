// The Services panel's source across config reloads: a ServicesMonitor for the units the
// config names now, replaced when a reload changes the list of units or the scope.
import type { ResolvedConfig } from '../../config/load.js';
import { ServicesMonitor, servicesFromConfig, type ServicesMonitorOptions } from '../../system/services.js';
import type { ServiceActionResult, ServiceState, ServicesState, ServiceVerb } from '../../system/types.js';
import { ValueStore, sameData } from '../../system/store.js';

type MonitorOptions = Omit<ServicesMonitorOptions, 'services' | 'scope'>;

export class ServicesSource extends ValueStore<ServicesState> {
  private monitor: ServicesMonitor;
  private off: () => void = () => {};
  private signature = '';
  private running = false;

  constructor(
    config: ResolvedConfig | undefined,
    private readonly opts: MonitorOptions,
  ) {
    super({ systemdAvailable: false, notice: null, services: [] }, sameData);
    this.monitor = this.build(config);
  }

  private build(config: ResolvedConfig | undefined): ServicesMonitor {
    const services = config ? servicesFromConfig(config) : [];
    const scope = config?.systemctlScope ?? 'system';
    this.signature = JSON.stringify([scope, services]);
    const monitor = new ServicesMonitor({ ...this.opts, services, scope });
    this.off();
    this.off = monitor.subscribe((s) => this.set(s));
    this.set(monitor.getSnapshot());
    return monitor;
  }

  /** After a config reload: keep the monitor unless the units or their scope changed. */
  setConfig(config: ResolvedConfig | undefined): void {
    if (!config) return; // an invalid reload keeps the last good list, like the gateway
    const services = servicesFromConfig(config);
    if (JSON.stringify([config.systemctlScope, services]) === this.signature) return;
    this.monitor.stop();
    this.monitor = this.build(config);
    if (this.running) this.monitor.start();
  }

  start(): void {
    this.running = true;
    this.monitor.start();
  }

  stop(): void {
    this.running = false;
    this.monitor.stop();
    this.off();
  }

  runServiceAction(unit: string, verb: ServiceVerb): Promise<ServiceActionResult> {
    return this.monitor.runServiceAction(unit, verb);
  }

  /** One refresh now, for whoever waits on a unit (the drain-first restart). */
  async unitState(unit: string): Promise<ServiceState | null> {
    return (await this.monitor.refresh()).services.find((s) => s.unit === unit) ?? null;
  }

  journalFollowCommand(unit: string): ReturnType<ServicesMonitor['journalFollowCommand']> {
    return this.monitor.journalFollowCommand(unit);
  }
}
