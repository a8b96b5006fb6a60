// What s, x and r do to the selected service: start at once, stop and restart after y; and for
// a unit the gateway routes to, r also offers to drain it first (d), which runs the drain-first
// restart of data/drainRestart.ts with its questions on the status line.
import type { ResolvedConfig } from '../../config/load.js';
import type { ServiceState, ServicesState, ServiceVerb } from '../../system/types.js';
import type { DashboardActions } from '../contexts/SourcesContext.js';
import { DRAIN_DEFAULTS, drainThenRestart, providerRoutes, type DrainSteps } from '../data/drainRestart.js';
import { engineOf, routingOf, type EngineFeedState } from '../data/engineFeed.js';
import type { ServiceActionRecord } from '../presentation/detail.js';
import type { Confirm, StatusMessage } from '../presentation/statusLine.js';
import type { LatestState } from './useLatestState.js';
import type { Alert } from './useStatusMessages.js';

/** A question on the status line and what each answer runs. */
export interface PendingQuestion extends Confirm {
  run: () => void;
  /** on n (after `refused` is shown, when there is one) */
  refuse?: () => void;
  /** on the alternative's key, when `alternative` is set */
  runAlternative?: () => void;
}

export interface ServiceActionsInput {
  actions: DashboardActions;
  services: ServicesState;
  engines: EngineFeedState;
  config: ResolvedConfig | undefined;
  say: (text: string, tone?: StatusMessage['tone']) => void;
  /** an error that stays on the status line until read or dismissed */
  raise: (alert: Alert) => void;
  /** each unit's last action, for its detail */
  lastActions: LatestState<ReadonlyMap<string, ServiceActionRecord>>;
  ask: (question: PendingQuestion) => void;
  busyUnit: LatestState<string | null>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The drain offer for a service: only when the gateway answers and some model routes to it. */
export function drainOffer(s: ServiceState, engines: EngineFeedState, config: ResolvedConfig | undefined): { only: string[]; hasEngine: boolean } | null {
  if (engines.updatedAt === null || !routingOf(engines, s.provider)) return null;
  const { routes, only } = providerRoutes(config, s.provider);
  return routes.length ? { only, hasEngine: Boolean(engineOf(engines, s.provider)) } : null;
}

export function useServiceActions(i: ServiceActionsInput): (verb: ServiceVerb, selected: ServiceState | null) => void {
  const { actions, say, busyUnit } = i;

  /** The outcome on the status line (a failure stays there until read) and in the unit's last action. */
  const record = (unit: string, verb: string, ok: boolean, message: string, output: readonly string[], failedLine = `${verb} ${unit}: ${message}`) => {
    i.lastActions.set((m) => new Map(m).set(unit, { verb, ok, atMs: Date.now(), message, output }));
    if (ok) say(message, 'ok');
    else i.raise({ title: `${verb} ${unit} failed`, message: failedLine, lines: output.length > 0 ? output : [message] });
  };

  const runService = (unit: string, verb: ServiceVerb) => {
    busyUnit.set(unit);
    say(`${verb} ${unit}…`, 'dim');
    void actions
      .serviceAction(unit, verb)
      .then(
        (r) => record(unit, verb, r.ok, r.message, r.output ?? []),
        (e: Error) => record(unit, verb, false, e.message, []),
      )
      .finally(() => busyUnit.set(null));
  };

  const drainFirst = (s: ServiceState, hasEngine: boolean) => {
    busyUnit.set(s.unit);
    const steps: DrainSteps = {
      ...actions.providers,
      restart: (unit) => actions.serviceAction(unit, 'restart'),
      unit: (unit) => actions.unitState(unit),
      ask: (question) => new Promise((resolve) => i.ask({ question, refused: '', run: () => resolve(true), refuse: () => resolve(false) })),
      progress: (text) => say(text, 'dim'),
      pause,
      now: Date.now,
    };
    const verb = 'drain-first restart';
    void drainThenRestart({ unit: s.unit, provider: s.provider, hasEngine, ...DRAIN_DEFAULTS }, steps)
      .then(
        (r) => (r.cancelled ? say(r.message, 'dim') : record(s.unit, verb, r.ok, r.message, [], r.message)),
        (e: Error) => record(s.unit, verb, false, e.message, []),
      )
      .finally(() => busyUnit.set(null));
  };

  return (verb, selected) => {
    if (!selected) say('no service configured: add `service:` to a provider in providers.yaml', 'warn');
    else if (!i.services.systemdAvailable) say(i.services.notice ?? 'systemd unavailable: service actions disabled', 'warn');
    else if (busyUnit.get()) say(`an action on ${busyUnit.get()} is still running`, 'warn');
    else if (verb === 'start') runService(selected.unit, 'start');
    else {
      const offer = verb === 'restart' ? drainOffer(selected, i.engines, i.config) : null;
      const alone = offer?.only.length ? ` (only target of ${offer.only.join(', ')}: 503 while drained)` : '';
      i.ask({
        question: `${verb} ${selected.unit}?`,
        refused: `${verb} ${selected.unit}: cancelled`,
        run: () => runService(selected.unit, verb),
        ...(offer && { alternative: `drain ${selected.provider} first${alone}`, runAlternative: () => drainFirst(selected, offer.hasEngine) }),
      });
    }
  };
}
