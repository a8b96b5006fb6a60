// The dashboard: panels of SPEC §12 laid out for the terminal size, the full-screen views,
// and the keyboard (every binding comes from keys.ts). Data arrives through the hooks; the
// panels only draw their props.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, useInput, type Key } from 'ink';
import os from 'node:os';
import { hasErrors, formatProblem } from '../config/problems.js';
import { PANELS, resolveKey, type Command, type KeyMode, type PanelId, type ServiceVerb } from './keys.js';
import { computeLayout } from './layout.js';
import { clock } from './format.js';
import { helpLines, journalLines, routingLines, trafficByTarget } from './views.js';
import { useSources } from './contexts/SourcesContext.js';
import { useGpu, useGpuOwners } from './hooks/useGpu.js';
import { useHost } from './hooks/useHost.js';
import { useServices } from './hooks/useServices.js';
import { useUsage } from './hooks/useUsage.js';
import { useBudgets } from './hooks/useBudgets.js';
import { useGatewayChild } from './hooks/useGatewayChild.js';
import { useConfig } from './hooks/useConfig.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';
import { useFrame } from './hooks/useStore.js';
import { GpuPanel } from './panels/GpuPanel.js';
import { HostPanel } from './panels/HostPanel.js';
import { ServicesPanel } from './panels/ServicesPanel.js';
import { GatewayPanel } from './panels/GatewayPanel.js';
import { BudgetsPanel } from './panels/BudgetsPanel.js';
import { RequestsPanel } from './panels/RequestsPanel.js';
import { TextView, clampOffset, type ViewLine } from './panels/TextView.js';
import { StatusBar, TitleBar, TooSmall, type StatusMessage } from './panels/Bars.js';

type View = { kind: 'help' } | { kind: 'routing' } | { kind: 'journal'; unit: string; lines: ViewLine[] | null; error: string | null };

interface Confirm {
  unit: string;
  verb: ServiceVerb;
}

interface Flash extends StatusMessage {
  at: number;
}

const FLASH_MS = 10_000;
const ROUTING_WINDOW_S = 300;
const HINTS = 'Tab/1-6 focus · j/k select · s/x/r start/stop/restart · l journal · c routing · g export · G gateway · ? help · q quit';

export function App() {
  const sources = useSources();
  const { actions } = sources;
  const { columns, rows } = useTerminalSize();
  const now = useFrame();
  const gpu = useGpu();
  const host = useHost();
  const services = useServices();
  const usage = useUsage();
  const budgets = useBudgets();
  const gateway = useGatewayChild();
  const config = useConfig();
  const owners = useGpuOwners(gpu, services.services);

  const [focus, setFocus] = useState<PanelId>('services');
  const [selected, setSelected] = useState(0);
  const [requestsOffset, setRequestsOffset] = useState(0);
  const [budgetsOffset, setBudgetsOffset] = useState(0);
  const [view, setView] = useState<View | null>(null);
  const [viewOffset, setViewOffset] = useState(0);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [flash, setFlash] = useState<Flash | null>(null);
  const [busyUnit, setBusyUnit] = useState<string | null>(null);

  const say = useCallback((text: string, tone: StatusMessage['tone'] = null) => setFlash({ text, tone, at: Date.now() }), []);

  const serviceCount = services.services.length;
  const selectedIndex = Math.min(selected, Math.max(0, serviceCount - 1));
  const selectedService = services.services[selectedIndex] ?? null;

  // Scrolled back in Requests: stay on the same rows while new ones arrive on top.
  const topId = useRef<number | null>(null);
  useEffect(() => {
    const newest = usage.rows[0]?.id ?? null;
    if (topId.current !== null && newest !== null && newest !== topId.current) {
      const added = usage.rows.findIndex((r) => r.id === topId.current);
      setRequestsOffset((o) => (o > 0 && added > 0 ? o + added : o));
    }
    topId.current = newest;
  }, [usage.rows]);

  const layout = computeLayout({
    columns,
    rows,
    gpuLines: (gpu.notice || gpu.gpus.length === 0 ? 1 : 0) + gpu.gpus.length + gpu.processes.length,
    serviceLines: (services.notice ? 1 : 0) + Math.max(1, serviceCount) + (selectedService?.error ? 1 : 0),
    budgetLines: (budgets.notice ? 1 : 0) + Math.max(1, budgets.rows.length),
  });

  const viewLines = useMemo((): ViewLine[] => {
    if (!view) return [];
    if (view.kind === 'help') return helpLines();
    if (view.kind === 'routing') {
      return routingLines(config.config, config.problems, trafficByTarget(usage.rows, Date.now() - ROUTING_WINDOW_S * 1000), ROUTING_WINDOW_S);
    }
    if (view.error) return [{ text: view.error, tone: 'bad' }];
    return view.lines ?? [{ text: `reading the journal of ${view.unit}…`, tone: 'dim' }];
  }, [view, config, usage.rows]);

  const openJournal = useCallback(
    (unit: string) => {
      setView({ kind: 'journal', unit, lines: null, error: null });
      void actions.journal(unit).then(
        (r) => {
          const lines = journalLines(r.lines);
          setView((v) => (v?.kind === 'journal' && v.unit === unit ? { ...v, lines, error: r.error } : v));
          // The newest entries are at the bottom: start there.
          setViewOffset(Number.MAX_SAFE_INTEGER);
        },
        (e: Error) => setView((v) => (v?.kind === 'journal' && v.unit === unit ? { ...v, error: e.message } : v)),
      );
    },
    [actions],
  );

  const runService = useCallback(
    (unit: string, verb: ServiceVerb) => {
      setBusyUnit(unit);
      say(`${verb} ${unit}…`, 'dim');
      void actions
        .serviceAction(unit, verb)
        .then(
          (r) => say(r.message, r.ok ? 'ok' : 'bad'),
          (e: Error) => say(`${verb} ${unit}: ${e.message}`, 'bad'),
        )
        .finally(() => setBusyUnit(null));
    },
    [actions, say],
  );

  const dispatch = (cmd: Command) => {
    const page = Math.max(1, (view ? layout.viewHeight : layout.requestsHeight) - 2);
    const scroll = (delta: number) => {
      if (view) {
        const n = viewLines.length;
        setViewOffset((o) => clampOffset(clampOffset(o, n, layout.viewHeight) + delta, n, layout.viewHeight));
        return;
      }
      if (focus === 'services') setSelected(Math.max(0, Math.min(serviceCount - 1, selectedIndex + Math.sign(delta))));
      else if (focus === 'requests') setRequestsOffset((o) => Math.max(0, Math.min(usage.rows.length - 1, o + delta)));
      else if (focus === 'budgets') setBudgetsOffset((o) => Math.max(0, Math.min(budgets.rows.length - 1, o + delta)));
    };
    switch (cmd.type) {
      case 'quit':
        actions.quit();
        return;
      case 'focusNext':
      case 'focusPrev': {
        const i = PANELS.indexOf(focus);
        setFocus(PANELS[(i + (cmd.type === 'focusNext' ? 1 : PANELS.length - 1)) % PANELS.length]);
        return;
      }
      case 'focus':
        setFocus(cmd.panel);
        return;
      case 'down':
        scroll(1);
        return;
      case 'up':
        scroll(-1);
        return;
      case 'pageDown':
        scroll(page);
        return;
      case 'pageUp':
        scroll(-page);
        return;
      case 'service': {
        if (!selectedService) {
          say('no service configured: add `service:` to a provider in providers.yaml', 'warn');
          return;
        }
        if (!services.systemdAvailable) {
          say(services.notice ?? 'systemd unavailable: service actions disabled', 'warn');
          return;
        }
        if (busyUnit) {
          say(`an action on ${busyUnit} is still running`, 'warn');
          return;
        }
        if (cmd.verb === 'start') runService(selectedService.unit, 'start');
        else setConfirm({ unit: selectedService.unit, verb: cmd.verb });
        return;
      }
      case 'confirm':
        if (confirm) runService(confirm.unit, confirm.verb);
        setConfirm(null);
        return;
      case 'cancel':
      case 'close':
        if (confirm) {
          say(`${confirm.verb} ${confirm.unit}: cancelled`, 'dim');
          setConfirm(null);
        } else setView(null);
        return;
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
        if (!selectedService) say('no service configured: nothing to show a journal for', 'warn');
        else openJournal(selectedService.unit);
        return;
      case 'routing':
        setView((v) => (v?.kind === 'routing' ? null : { kind: 'routing' }));
        setViewOffset(0);
        return;
      case 'help':
        setView((v) => (v?.kind === 'help' ? null : { kind: 'help' }));
        setViewOffset(0);
        return;
    }
  };

  const mode: KeyMode = confirm ? 'confirm' : view ? 'view' : 'main';
  // One stable input handler reading the latest render's state through a ref: a key that
  // arrives between a render and its effects must not meet the previous screen's handler.
  const latest = useRef({ mode, dispatch });
  latest.current = { mode, dispatch };
  const onInput = useCallback((input: string, key: Key) => {
    const cmd = resolveKey(input, key, latest.current.mode);
    if (cmd) latest.current.dispatch(cmd);
  }, []);
  useInput(onInput);

  const status = statusLine({
    confirm,
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
  const title = (
    <TitleBar width={layout.width} left={` ${sources.title} · ${os.hostname()} · gateway ${gatewayAddr}`} right={`? help · q quit  ${clock(now)} `} />
  );

  return (
    <Box flexDirection="column" width={layout.width} height={layout.height}>
      {title}
      {view ? (
        <TextView
          title={view.kind === 'help' ? 'Help' : view.kind === 'routing' ? 'Routing and config' : `Journal: ${view.unit}`}
          lines={viewLines}
          offset={viewOffset}
          width={layout.width}
          height={layout.viewHeight}
        />
      ) : (
        <>
          <Box flexDirection="row" height={layout.topHeight}>
            <GpuPanel state={gpu} owners={owners} width={layout.leftWidth} height={layout.topHeight} focused={focus === 'gpus'} />
            <Box width={1} />
            <HostPanel state={host.state} cpuHistory={host.cpuHistory} width={layout.rightWidth} height={layout.topHeight} focused={focus === 'host'} />
          </Box>
          <Box flexDirection="row" height={layout.middleHeight}>
            <ServicesPanel
              state={services}
              selected={selectedIndex}
              busyUnit={busyUnit}
              width={layout.leftWidth}
              height={layout.middleHeight}
              focused={focus === 'services'}
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
              focused={focus === 'gateway'}
              nowMs={now}
            />
          </Box>
          <BudgetsPanel
            rows={budgets.rows}
            source={budgets.source}
            notice={budgets.notice}
            offset={budgetsOffset}
            width={layout.width}
            height={layout.budgetsHeight}
            focused={focus === 'budgets'}
          />
          <RequestsPanel
            rows={usage.rows}
            offset={requestsOffset}
            notice={usage.notice}
            width={layout.width}
            height={layout.requestsHeight}
            focused={focus === 'requests'}
          />
        </>
      )}
      <StatusBar message={status} width={layout.width} />
    </Box>
  );
}

function statusLine(s: {
  confirm: Confirm | null;
  flash: StatusMessage | null;
  configErrors: string[];
  configInvalid: boolean;
  usageNotice: string | null;
}): StatusMessage {
  if (s.confirm) return { text: `${s.confirm.verb} ${s.confirm.unit}? y/n`, tone: 'warn' };
  if (s.flash) return s.flash;
  if (s.configErrors.length > 0) {
    const more = s.configErrors.length > 1 ? ` (+${s.configErrors.length - 1} more, c shows all)` : ' (c shows it)';
    return { text: `config invalid: ${s.configErrors[0]}${more}`, tone: 'bad' };
  }
  if (s.configInvalid) return { text: 'config invalid: c shows why', tone: 'bad' };
  if (s.usageNotice) return { text: s.usageNotice, tone: 'warn' };
  return { text: HINTS, tone: 'dim' };
}
