// The dashboard: the panels laid out for the terminal size, the full-screen views, and the
// keyboard (every binding comes from keys/bindings.ts). Data arrives through the session's
// stores; the panels only draw their props.
import { useCallback, useMemo } from 'react';
import { Box } from 'ink';
import os from 'node:os';
import { hasErrors, formatProblem } from '../config/problems.js';
import { resolveKey, type Command, type KeyMode } from './keys/bindings.js';
import type { KeyPress } from './keys/keyPress.js';
import { PANEL_IDS, type PanelId } from './panels/catalog.js';
import { computeLayout } from './presentation/layout.js';
import { clampPosition, type ListShape } from './presentation/listCursor.js';
import { clock } from './presentation/format.js';
import { statusLine } from './presentation/statusLine.js';
import type { Detail, DetailExtra, ServiceActionRecord } from './presentation/detail.js';
import { selectionDetail, type Selection } from './presentation/selectionDetail.js';
import { followKeyOf as followKey, viewLines, viewTitle, type View } from './presentation/viewContent.js';
import { filterSummary, shownLists } from './presentation/listFilter.js';
import { useSources } from './contexts/SourcesContext.js';
import { cleanText } from './data/cleanText.js';
import { useGpuOwners } from './hooks/useGpuOwners.js';
import { useHost } from './hooks/useHost.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { useCurrentValue, useFrame } from './hooks/useStore.js';
import { useKeyPresses } from './hooks/useKeyPresses.js';
import { useLatestState } from './hooks/useLatestState.js';
import { useListCursors, type ListId } from './hooks/useListCursors.js';
import { useListFilters } from './hooks/useListFilters.js';
import { useFollowNewRows } from './hooks/useFollowNewRows.js';
import { useFollowView } from './hooks/useFollowView.js';
import { FLASH_MS, useStatusMessages } from './hooks/useStatusMessages.js';
import { useServiceActions, type PendingQuestion } from './hooks/useServiceActions.js';
import type { ViewLine } from './panels/TextView.js';
import { TextView } from './panels/TextView.js';
import { PanelGrid } from './panels/PanelGrid.js';
import { StatusBar, TitleBar, TooSmall } from './panels/Bars.js';

/** The panels that are lists; the others have nothing to move in. */
const LIST_OF_PANEL: Partial<Record<PanelId, ListId>> = { services: 'services', budgets: 'budgets', requests: 'requests' };

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
  const engines = useCurrentValue('engines');
  const owners = useGpuOwners(gpu, services.services);

  const focus = useLatestState<PanelId>('services');
  const view = useLatestState<View | null>(null);
  const confirm = useLatestState<PendingQuestion | null>(null);
  const busyUnit = useLatestState<string | null>(null);
  const lastActions = useLatestState<ReadonlyMap<string, ServiceActionRecord>>(new Map());
  const cursors = useListCursors();
  const messages = useStatusMessages();
  const { say } = messages;
  const onFilter = useCallback(
    (list: ListId, text: string) => {
      cursors.reset(list);
      if (list === 'requests') actions.filterRequests(text);
    },
    [cursors, actions],
  );
  const filters = useListFilters(onFilter);

  const { shown, notes } = useMemo(() => shownLists(services.services, budgets.rows, usage, filters.values), [services.services, budgets.rows, usage, filters.values]);
  useFollowNewRows(shown.requests, cursors);
  // the panels are memoised: the same rows make the same objects
  const shownData = useMemo(
    () => ({
      services: { ...services, services: shown.services as typeof services.services },
      usage: { ...usage, rows: shown.requests },
      budgets: { ...budgets, rows: shown.budgets },
    }),
    [services, usage, budgets, shown],
  );

  const serviceCount = shown.services.length;
  const selectedIndex = clampPosition(cursors.positions.services, { kind: 'select', count: serviceCount, room: 1 });
  const selectedService = shown.services[selectedIndex] ?? null;

  const layout = computeLayout({
    columns,
    rows,
    gpuLines: (gpu.notice || gpu.gpus.length === 0 ? 1 : 0) + gpu.gpus.length + gpu.processes.length,
    // + the column names, on their own line when the panel is narrow
    serviceLines: 1 + (services.notice ? 1 : 0) + Math.max(1, serviceCount) + (selectedService?.error ? 1 : 0),
    budgetLines: (budgets.notice ? 1 : 0) + Math.max(1, shown.budgets.length),
  });

  const shownView = view.value;
  const viewText = useMemo(
    (): ViewLine[] =>
      viewLines(shownView, {
        config: config.config,
        lastGood: config.lastGood,
        problems: config.problems,
        rows: usage.rows,
        nowMs: Date.now(),
        width: columns,
        search: filters.values.view,
      }),
    [shownView, config, usage.rows, columns, filters.values.view],
  );
  const follow = useFollowView(shownView?.kind === 'follow' ? shownView.target : null, filters.values.view, layout.width, layout.viewHeight - 1);

  const lists: Record<ListId, ListShape> = {
    services: { kind: 'select', count: serviceCount, room: layout.middleHeight - 1 },
    budgets: { kind: 'select', count: shown.budgets.length, room: layout.budgetsHeight - 1 },
    requests: { kind: 'select', count: shown.requests.length, room: layout.requestsHeight - 2 },
    view: { kind: 'scroll', count: viewText.length, room: layout.viewHeight - 1 },
  };

  const openView = (next: View) => {
    view.set(next);
    cursors.reset('view');
    filters.clear('view');
  };

  /** A detail now, and again with what it reads afterwards (if it is still the view open). */
  const openDetail = (build: (extra?: DetailExtra) => Detail, load?: () => Promise<DetailExtra>) => {
    const opened: View = { kind: 'detail', build };
    openView(opened);
    void load?.().then(
      (extra) => view.get() === opened && view.set({ ...opened, extra }),
      (e: Error) => view.get() === opened && view.set({ ...opened, extra: { error: e.message } }),
    );
  };

  const ask = (question: PendingQuestion) => confirm.set(question);
  const serviceCommand = useServiceActions({ actions, services, engines, config: config.config, say, raise: messages.raise, lastActions, ask, busyUnit });

  const restartGateway = () => {
    say('restarting the gateway…', 'dim');
    void actions.restartGateway().then(
      (m) => say(m, 'ok'),
      (e: Error) => messages.raise({ title: 'gateway restart failed', message: `gateway restart: ${e.message}`, lines: [e.message] }),
    );
  };

  const detailOfSelection = () => {
    const alert = messages.currentAlert();
    if (alert) {
      // the status line's error, whole; reading it dismisses it
      messages.dismiss();
      openDetail(() => ({ title: alert.title, lines: alert.lines.map((text) => ({ text, tone: 'bad' as const })) }));
      return;
    }
    const list = LIST_OF_PANEL[focus.get()];
    const at = list ? clampPosition(cursors.current()[list], lists[list]) : 0;
    const s = list === 'services' ? shown.services[at] : undefined;
    const r = list === 'requests' ? shown.requests[at] : undefined;
    const b = list === 'budgets' ? shown.budgets[at] : undefined;
    const sel: Selection | null = s ? { service: s } : r ? { request: r } : b ? { budget: b } : null;
    if (!sel) return say(list ? 'nothing selected: the list is empty' : 'Enter opens a row of Services, Budgets or Requests', 'warn');
    const plan = selectionDetail(sel, {
      seen: { services: services.services, gpus: gpu.gpus, processes: gpu.processes, owners },
      config: config.config ?? config.lastGood,
      lastAction: (unit) => lastActions.get().get(unit) ?? null,
      actions,
      engines,
      nowMs: Date.now(),
    });
    openDetail(plan.build, plan.load);
  };

  const dispatch = (cmd: Command) => {
    if (cmd.type === 'move') {
      if (view.get()?.kind === 'follow') return follow.move(cmd.motion);
      const list = view.get() ? 'view' : LIST_OF_PANEL[focus.get()];
      if (list) cursors.move(list, cmd.motion, lists[list]);
      return;
    }
    if (cmd.type.startsWith('input')) return filters.edit(cmd);
    const selected = shown.services[clampPosition(cursors.current().services, lists.services)] ?? null;
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
      case 'filter': {
        const list = view.get() ? 'view' : LIST_OF_PANEL[focus.get()];
        if (list) filters.open(list);
        else say('/ filters a list: focus Services (3), Budgets (5) or Requests (6) first', 'warn');
        return;
      }
      case 'dismiss': {
        const list = LIST_OF_PANEL[focus.get()];
        if (messages.currentAlert()) messages.dismiss();
        else if (list && filters.current()[list]) filters.clear(list);
        return;
      }
      case 'service':
        serviceCommand(cmd.verb, selected);
        return;
      case 'confirm':
      case 'confirmAlternative': {
        const asked = confirm.get();
        // a key for an alternative that was not offered leaves the question open
        if (cmd.type === 'confirmAlternative' && !asked?.runAlternative) return;
        confirm.set(null);
        if (cmd.type === 'confirm') asked?.run();
        else asked?.runAlternative?.();
        return;
      }
      case 'cancel':
      case 'close': {
        const asked = confirm.get();
        if (asked) {
          if (asked.refused) say(asked.refused, 'dim');
          confirm.set(null);
          asked.refuse?.();
        } else view.set(null);
        return;
      }
      case 'exportConfig':
        say('exporting config…', 'dim');
        void actions.exportConfig().then((r) => say(r.message, r.ok ? 'ok' : 'bad'));
        return;
      case 'restartGateway':
        ask({ question: 'restart the gateway? clients see it gone for a moment', refused: 'gateway restart: cancelled', run: restartGateway });
        return;
      case 'detail':
        detailOfSelection();
        return;
      case 'journal':
        if (!selected) say('no service configured: nothing to show a journal for', 'warn');
        else if (followKey(view.get()) !== `journal:${selected.unit}`) openView({ kind: 'follow', title: `Journal: ${selected.unit}`, target: { kind: 'journal', unit: selected.unit } });
        return;
      case 'gatewayLog':
        if (followKey(view.get()) !== 'gatewayLog') openView({ kind: 'follow', title: 'Gateway log', target: { kind: 'gatewayLog' } });
        return;
      case 'routing':
      case 'help':
        if (view.get()?.kind === cmd.type) view.set(null);
        else openView({ kind: cmd.type });
        return;
    }
  };

  useKeyPresses((key: KeyPress) => {
    const mode: KeyMode = confirm.get() ? 'confirm' : filters.isEditing() ? 'input' : view.get() ? 'view' : 'main';
    const cmd = resolveKey(key, mode);
    if (cmd) dispatch(cmd);
  });

  const status = statusLine({
    confirm: confirm.value,
    prompt: filters.editing ? filters.values[filters.editing] : null,
    flash: messages.flash && now - messages.flash.at < FLASH_MS ? messages.flash : null,
    alert: messages.alert?.message ?? null,
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
  const title = (
    <TitleBar width={layout.width} left={` ${sources.title} · ${cleanText(os.hostname())} · gateway ${gatewayAddr}`} right={`? help · q quit  ${clock(now)} `} />
  );

  return (
    <Box flexDirection="column" width={layout.width} height={layout.height}>
      {title}
      {shownView?.kind === 'follow' ? (
        <TextView title={viewTitle(shownView)} lines={follow.rows} offset={0} width={layout.width} height={layout.viewHeight} footer={`${follow.summary} · Esc close`} />
      ) : shownView ? (
        <TextView
          title={viewTitle(shownView)}
          lines={viewText}
          offset={cursors.positions.view}
          width={layout.width}
          height={layout.viewHeight}
          footer={filterSummary(filters.values.view, viewText.length, viewText.length) ?? undefined}
        />
      ) : (
        <PanelGrid
          layout={layout}
          focused={focus.value}
          nowMs={now}
          data={{ gpu, owners, host, gateway, engines, ...shownData }}
          notes={notes}
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
