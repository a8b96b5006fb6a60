// The dashboard: the panels laid out for the terminal size, the full-screen views, and the
// keyboard (every binding comes from keys/bindings.ts). Data arrives through the session's
// stores; the panels only draw their props.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box } from 'ink';
import os from 'node:os';
import { hasErrors, formatProblem } from '../config/problems.js';
import type { ServiceVerb } from '../system/types.js';
import { resolveKey, type Command, type KeyMode } from './keys/bindings.js';
import type { KeyPress } from './keys/keyPress.js';
import { PANEL_IDS, type PanelId } from './panels/catalog.js';
import { computeLayout } from './presentation/layout.js';
import { clampPosition, type ListShape, type Motion } from './presentation/listCursor.js';
import { clock } from './presentation/format.js';
import { statusLine, type Confirm, type StatusMessage } from './presentation/statusLine.js';
import { helpLines, journalLines, routingLines, trafficByTarget } from './presentation/views.js';
import { useSources } from './contexts/SourcesContext.js';
import { cleanText } from './data/cleanText.js';
import { useGpuOwners } from './hooks/useGpuOwners.js';
import { useHost } from './hooks/useHost.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { useCurrentValue, useFrame } from './hooks/useStore.js';
import { useKeyPresses } from './hooks/useKeyPresses.js';
import { useLatestState } from './hooks/useLatestState.js';
import { useListCursors, type ListId } from './hooks/useListCursors.js';
import { GpuPanel } from './panels/GpuPanel.js';
import { HostPanel } from './panels/HostPanel.js';
import { ServicesPanel } from './panels/ServicesPanel.js';
import { GatewayPanel } from './panels/GatewayPanel.js';
import { BudgetsPanel } from './panels/BudgetsPanel.js';
import { RequestsPanel } from './panels/RequestsPanel.js';
import { TextView, type ViewLine } from './panels/TextView.js';
import { StatusBar, TitleBar, TooSmall } from './panels/Bars.js';

type View = { kind: 'help' } | { kind: 'routing' } | { kind: 'journal'; unit: string; lines: ViewLine[] | null; error: string | null };

interface Flash extends StatusMessage {
  at: number;
}

const FLASH_MS = 10_000;
const ROUTING_WINDOW_S = 300;

/** The panels that are lists; the others have nothing to move in. */
const LIST_OF_PANEL: Partial<Record<PanelId, ListId>> = { services: 'services', budgets: 'budgets', requests: 'requests' };

const MOTION: Partial<Record<Command['type'], Motion>> = { down: 'down', up: 'up', pageDown: 'pageDown', pageUp: 'pageUp' };

function viewTitle(view: View): string {
  return view.kind === 'help' ? 'Help' : view.kind === 'routing' ? 'Routing and config' : `Journal: ${view.unit}`;
}

export function App() {
  const sources = useSources();
  const { actions } = sources;
  const { columns, rows } = useTerminalSize();
  const now = useFrame();
  const gpu = useCurrentValue('gpu');
  const host = useHost();
  const services = useCurrentValue('services');
  const usage = useCurrentValue('usage');
  const budgets = useCurrentValue('budgets');
  const gateway = useCurrentValue('gateway');
  const config = useCurrentValue('config');
  const owners = useGpuOwners(gpu, services.services);

  const focus = useLatestState<PanelId>('services');
  const view = useLatestState<View | null>(null);
  const confirm = useLatestState<Confirm | null>(null);
  const busyUnit = useLatestState<string | null>(null);
  const cursors = useListCursors();
  const [flash, setFlash] = useState<Flash | null>(null);

  const say = useCallback((text: string, tone: StatusMessage['tone'] = null) => setFlash({ text, tone, at: Date.now() }), []);

  const serviceCount = services.services.length;
  const selectedIndex = clampPosition(cursors.positions.services, { kind: 'select', count: serviceCount, room: 1 });
  const selectedService = services.services[selectedIndex] ?? null;

  // Scrolled back in Requests: stay on the same rows while new ones arrive on top.
  const topId = useRef<number | null>(null);
  useEffect(() => {
    const newest = usage.rows[0]?.id ?? null;
    if (topId.current !== null && newest !== null && newest !== topId.current && cursors.current().requests > 0) {
      const added = usage.rows.findIndex((r) => r.id === topId.current);
      if (added > 0) cursors.shift('requests', added);
    }
    topId.current = newest;
  }, [usage.rows, cursors]);

  const layout = computeLayout({
    columns,
    rows,
    gpuLines: (gpu.notice || gpu.gpus.length === 0 ? 1 : 0) + gpu.gpus.length + gpu.processes.length,
    serviceLines: (services.notice ? 1 : 0) + Math.max(1, serviceCount) + (selectedService?.error ? 1 : 0),
    budgetLines: (budgets.notice ? 1 : 0) + Math.max(1, budgets.rows.length),
  });

  const shownView = view.value;
  const viewLines = useMemo((): ViewLine[] => {
    if (!shownView) return [];
    if (shownView.kind === 'help') return helpLines();
    if (shownView.kind === 'routing') {
      return routingLines(config.config, config.problems, trafficByTarget(usage.rows, Date.now() - ROUTING_WINDOW_S * 1000), ROUTING_WINDOW_S);
    }
    if (shownView.error) return [{ text: shownView.error, tone: 'bad' }];
    return shownView.lines ?? [{ text: `reading the journal of ${shownView.unit}…`, tone: 'dim' }];
  }, [shownView, config, usage.rows]);

  const lists: Record<ListId, ListShape> = {
    services: { kind: 'select', count: serviceCount, room: layout.middleHeight - 1 },
    budgets: { kind: 'scroll', count: budgets.rows.length, room: layout.budgetsHeight - 1 },
    requests: { kind: 'scroll', count: usage.rows.length, room: layout.requestsHeight - 2 },
    view: { kind: 'scroll', count: viewLines.length, room: layout.viewHeight - 1 },
  };

  const openJournal = useCallback(
    (unit: string) => {
      view.set({ kind: 'journal', unit, lines: null, error: null });
      const forThisUnit = (v: View | null) => v?.kind === 'journal' && v.unit === unit;
      void actions.journal(unit).then(
        (r) => {
          const lines = journalLines(r.lines);
          view.set((v) => (forThisUnit(v) ? { kind: 'journal', unit, lines, error: r.error } : v));
          // The newest entries are at the bottom: start there.
          cursors.move('view', 'bottom', { kind: 'scroll', count: lines.length, room: layout.viewHeight - 1 });
        },
        (e: Error) => view.set((v) => (forThisUnit(v) ? { kind: 'journal', unit, lines: null, error: e.message } : v)),
      );
    },
    [actions, view, cursors, layout.viewHeight],
  );

  const runService = (unit: string, verb: ServiceVerb) => {
    busyUnit.set(unit);
    say(`${verb} ${unit}…`, 'dim');
    void actions
      .serviceAction(unit, verb)
      .then(
        (r) => say(r.message, r.ok ? 'ok' : 'bad'),
        (e: Error) => say(`${verb} ${unit}: ${e.message}`, 'bad'),
      )
      .finally(() => busyUnit.set(null));
  };

  const toggleView = (kind: 'help' | 'routing') => {
    view.set((v) => (v?.kind === kind ? null : { kind }));
    cursors.reset('view');
  };

  const dispatch = (cmd: Command) => {
    const motion = MOTION[cmd.type];
    if (motion) {
      const list = view.get() ? 'view' : LIST_OF_PANEL[focus.get()];
      if (list) cursors.move(list, motion, lists[list]);
      return;
    }
    const selected = services.services[clampPosition(cursors.current().services, lists.services)] ?? null;
    switch (cmd.type) {
      case 'quit':
        actions.quit();
        return;
      case 'focusNext':
      case 'focusPrev': {
        const i = PANEL_IDS.indexOf(focus.get());
        focus.set(PANEL_IDS[(i + (cmd.type === 'focusNext' ? 1 : PANEL_IDS.length - 1)) % PANEL_IDS.length]);
        return;
      }
      case 'focus':
        focus.set(cmd.panel);
        return;
      case 'service': {
        if (!selected) say('no service configured: add `service:` to a provider in providers.yaml', 'warn');
        else if (!services.systemdAvailable) say(services.notice ?? 'systemd unavailable: service actions disabled', 'warn');
        else if (busyUnit.get()) say(`an action on ${busyUnit.get()} is still running`, 'warn');
        else if (cmd.verb === 'start') runService(selected.unit, 'start');
        else confirm.set({ unit: selected.unit, verb: cmd.verb });
        return;
      }
      case 'confirm': {
        const asked = confirm.get();
        if (asked) runService(asked.unit, asked.verb);
        confirm.set(null);
        return;
      }
      case 'cancel':
      case 'close': {
        const asked = confirm.get();
        if (asked) {
          say(`${asked.verb} ${asked.unit}: cancelled`, 'dim');
          confirm.set(null);
        } else view.set(null);
        return;
      }
      case 'exportConfig':
        say('exporting config…', 'dim');
        void actions.exportConfig().then((r) => say(r.message, r.ok ? 'ok' : 'bad'));
        return;
      case 'restartGateway':
        say('restarting the gateway…', 'dim');
        void actions.restartGateway().then(
          (m) => say(m, 'ok'),
          (e: Error) => say(`gateway restart: ${e.message}`, 'bad'),
        );
        return;
      case 'journal':
        if (!selected) say('no service configured: nothing to show a journal for', 'warn');
        else openJournal(selected.unit);
        return;
      case 'routing':
      case 'help':
        toggleView(cmd.type);
        return;
    }
  };

  useKeyPresses((key: KeyPress) => {
    const mode: KeyMode = confirm.get() ? 'confirm' : view.get() ? 'view' : 'main';
    const cmd = resolveKey(key, mode);
    if (cmd) dispatch(cmd);
  });

  const status = statusLine({
    confirm: confirm.value,
    flash: flash && now - flash.at < FLASH_MS ? flash : null,
    configErrors: config.problems.filter((p) => p.severity === 'error').map(formatProblem),
    configInvalid: !config.config || hasErrors(config.problems),
    usageNotice: usage.dbState === 'absent' ? null : usage.notice,
  });

  if (layout.tooSmall) {
    return (
      <Box width={columns} height={layout.height} overflow="hidden">
        <TooSmall columns={columns} rows={rows} />
      </Box>
    );
  }

  const gatewayAddr = `${gateway.host}:${gateway.port}`;
  const focused = focus.value;
  const title = (
    <TitleBar width={layout.width} left={` ${sources.title} · ${cleanText(os.hostname())} · gateway ${gatewayAddr}`} right={`? help · q quit  ${clock(now)} `} />
  );

  return (
    <Box flexDirection="column" width={layout.width} height={layout.height}>
      {title}
      {shownView ? (
        <TextView title={viewTitle(shownView)} lines={viewLines} offset={cursors.positions.view} width={layout.width} height={layout.viewHeight} />
      ) : (
        <>
          <Box flexDirection="row" height={layout.topHeight}>
            <GpuPanel state={gpu} owners={owners} width={layout.leftWidth} height={layout.topHeight} focused={focused === 'gpus'} />
            <Box width={1} />
            <HostPanel state={host.state} cpuHistory={host.cpuHistory} width={layout.rightWidth} height={layout.topHeight} focused={focused === 'host'} />
          </Box>
          <Box flexDirection="row" height={layout.middleHeight}>
            <ServicesPanel
              state={services}
              selected={selectedIndex}
              busyUnit={busyUnit.value}
              width={layout.leftWidth}
              height={layout.middleHeight}
              focused={focused === 'services'}
              nowMs={now}
            />
            <Box width={1} />
            <GatewayPanel
              state={gateway}
              stats={usage.stats}
              rateWindowS={sources.rateWindowS}
              statsWindowS={sources.statsWindowS}
              width={layout.rightWidth}
              height={layout.middleHeight}
              focused={focused === 'gateway'}
              nowMs={now}
            />
          </Box>
          <BudgetsPanel
            rows={budgets.rows}
            source={budgets.source}
            notice={budgets.notice}
            offset={cursors.positions.budgets}
            width={layout.width}
            height={layout.budgetsHeight}
            focused={focused === 'budgets'}
          />
          <RequestsPanel
            rows={usage.rows}
            offset={cursors.positions.requests}
            notice={usage.notice}
            width={layout.width}
            height={layout.requestsHeight}
            focused={focused === 'requests'}
          />
        </>
      )}
      <StatusBar message={status} width={layout.width} />
    </Box>
  );
}
