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
import { clampPosition, type ListShape } from './presentation/listCursor.js';
import { clock } from './presentation/format.js';
import { statusLine, type Confirm, type StatusMessage } from './presentation/statusLine.js';
import { gatewayLogLines, helpLines, journalLines, routingLines, trafficByTarget, wrapLines } from './presentation/views.js';
import { budgetDetail, requestDetail, serviceDetail, type Detail } from './presentation/detail.js';
import { useSources } from './contexts/SourcesContext.js';
import { cleanText } from './data/cleanText.js';
import { useGpuOwners } from './hooks/useGpuOwners.js';
import { useHost } from './hooks/useHost.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { useCurrentValue, useFrame } from './hooks/useStore.js';
import { useKeyPresses } from './hooks/useKeyPresses.js';
import { useLatestState } from './hooks/useLatestState.js';
import { useListCursors, type ListId } from './hooks/useListCursors.js';
import { TextView, type ViewLine } from './panels/TextView.js';
import { PanelGrid } from './panels/PanelGrid.js';
import { StatusBar, TitleBar, TooSmall } from './panels/Bars.js';

/** A full-screen view: help and routing are drawn from live data; text (journal, log) is
 *  loaded when it opens; a detail is the selected row as the console saw it then. */
type View =
  | { kind: 'help' }
  | { kind: 'routing' }
  | { kind: 'text'; title: string; lines: ViewLine[] | null; error: string | null }
  | { kind: 'detail'; detail: Detail };

interface Flash extends StatusMessage {
  at: number;
}

const FLASH_MS = 10_000;
const ROUTING_WINDOW_S = 300;

/** The panels that are lists; the others have nothing to move in. */
const LIST_OF_PANEL: Partial<Record<PanelId, ListId>> = { services: 'services', budgets: 'budgets', requests: 'requests' };

function viewTitle(view: View): string {
  if (view.kind === 'help') return 'Help';
  if (view.kind === 'routing') return 'Routing and config';
  return view.kind === 'text' ? view.title : view.detail.title;
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
  const confirm = useLatestState<(Confirm & { run: () => void }) | null>(null);
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
    // + the column names, on their own line when the panel is narrow
    serviceLines: 1 + (services.notice ? 1 : 0) + Math.max(1, serviceCount) + (selectedService?.error ? 1 : 0),
    budgetLines: (budgets.notice ? 1 : 0) + Math.max(1, budgets.rows.length),
  });

  const shownView = view.value;
  const viewLines = useMemo((): ViewLine[] => {
    if (!shownView) return [];
    if (shownView.kind === 'help') return helpLines();
    if (shownView.kind === 'routing') {
      return routingLines(config.config, config.problems, trafficByTarget(usage.rows, Date.now() - ROUTING_WINDOW_S * 1000), ROUTING_WINDOW_S);
    }
    if (shownView.kind === 'detail') return wrapLines(shownView.detail.lines, columns - 1);
    if (shownView.error) return [{ text: shownView.error, tone: 'bad' }];
    return wrapLines(shownView.lines ?? [{ text: 'reading…', tone: 'dim' }], columns - 1);
  }, [shownView, config, usage.rows, columns]);

  const lists: Record<ListId, ListShape> = {
    services: { kind: 'select', count: serviceCount, room: layout.middleHeight - 1 },
    budgets: { kind: 'select', count: budgets.rows.length, room: layout.budgetsHeight - 1 },
    requests: { kind: 'select', count: usage.rows.length, room: layout.requestsHeight - 2 },
    view: { kind: 'scroll', count: viewLines.length, room: layout.viewHeight - 1 },
  };

  const openText = (title: string, load: () => Promise<{ lines: ViewLine[]; error: string | null }>) => {
    const opened: View = { kind: 'text', title, lines: null, error: null };
    view.set(opened);
    void load().then(
      ({ lines, error }) => {
        // still the view that asked (not closed or replaced meanwhile)
        if (view.get() !== opened) return;
        view.set({ ...opened, lines, error });
        // the newest entries are at the bottom: start there
        cursors.move('view', 'bottom', { kind: 'scroll', count: lines.length, room: layout.viewHeight - 1 });
      },
      (e: Error) => view.get() === opened && view.set({ ...opened, error: e.message }),
    );
  };

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

  const ask = (question: Confirm, run: () => void) => confirm.set({ ...question, run });

  const restartGateway = () => {
    say('restarting the gateway…', 'dim');
    void actions.restartGateway().then(
      (m) => say(m, 'ok'),
      (e: Error) => say(`gateway restart: ${e.message}`, 'bad'),
    );
  };

  const openDetail = () => {
    const list = LIST_OF_PANEL[focus.get()];
    const at = list ? clampPosition(cursors.current()[list], lists[list]) : 0;
    const detail =
      list === 'services' && services.services[at]
        ? serviceDetail(services.services[at], gpu.processes, owners)
        : list === 'requests' && usage.rows[at]
          ? requestDetail(usage.rows[at])
          : list === 'budgets' && budgets.rows[at]
            ? budgetDetail(budgets.rows[at])
            : null;
    if (!detail) say(list ? 'nothing selected: the list is empty' : 'Enter opens a row of Services, Budgets or Requests', 'warn');
    else {
      view.set({ kind: 'detail', detail });
      cursors.reset('view');
    }
  };

  const toggleView = (kind: 'help' | 'routing') => {
    view.set((v) => (v?.kind === kind ? null : { kind }));
    cursors.reset('view');
  };

  const dispatch = (cmd: Command) => {
    if (cmd.type === 'move') {
      const list = view.get() ? 'view' : LIST_OF_PANEL[focus.get()];
      if (list) cursors.move(list, cmd.motion, lists[list]);
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
        else ask({ question: `${cmd.verb} ${selected.unit}?`, refused: `${cmd.verb} ${selected.unit}: cancelled` }, () => runService(selected.unit, cmd.verb));
        return;
      }
      case 'confirm': {
        const asked = confirm.get();
        confirm.set(null);
        asked?.run();
        return;
      }
      case 'cancel':
      case 'close': {
        const asked = confirm.get();
        if (asked) {
          say(asked.refused, 'dim');
          confirm.set(null);
        } else view.set(null);
        return;
      }
      case 'exportConfig':
        say('exporting config…', 'dim');
        void actions.exportConfig().then((r) => say(r.message, r.ok ? 'ok' : 'bad'));
        return;
      case 'restartGateway':
        ask({ question: 'restart the gateway? clients see it gone for a moment', refused: 'gateway restart: cancelled' }, restartGateway);
        return;
      case 'detail':
        openDetail();
        return;
      case 'journal':
        if (!selected) say('no service configured: nothing to show a journal for', 'warn');
        else openText(`Journal: ${selected.unit}`, () => actions.journal(selected.unit).then((r) => ({ lines: journalLines(r.lines), error: r.error })));
        return;
      case 'gatewayLog':
        openText('Gateway log', () => actions.gatewayLog().then((r) => ({ lines: gatewayLogLines(r.lines), error: r.error })));
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
    width: columns,
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
        <PanelGrid
          layout={layout}
          focused={focused}
          nowMs={now}
          data={{ gpu, owners, host, services, gateway, usage, budgets }}
          positions={{ ...cursors.positions, services: selectedIndex }}
          busyUnit={busyUnit.value}
          rateWindowS={sources.rateWindowS}
          statsWindowS={sources.statsWindowS}
        />
      )}
      <StatusBar message={status} width={layout.width} />
    </Box>
  );
}
