// Services: the configured systemd units in config order, with state, MainPID, uptime, the
// health probe and the GPU memory charged to them, then (where the panel is wide enough) the
// engine's queue, KV cache, tokens/s and p95 TTFT, or an Ollama's loaded models, as the gateway
// reads them. The selected row is what s/x/r/l act on.
import React, { memo } from 'react';
import { Text } from 'ink';
import type { ServiceState, ServicesState } from '../../system/types.js';
import { NA, displayWidth, duration, fit, mib } from '../presentation/format.js';
import { GPU_W, HEALTH_W, PID_W, UP_W, engineCells, planServiceColumns, type EngineColumn, type EngineCells } from '../presentation/engineRow.js';
import { engineOf, routingOf, type EngineFeedState } from '../data/engineFeed.js';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';
import { visibleRows } from '../presentation/listCursor.js';
import { PanelFrame } from './PanelFrame.js';
import { Line } from './Line.js';
import { READING_UNITS } from '../data/initialState.js';

export interface ServicesPanelProps {
  state: ServicesState;
  /** the gateway's view of each provider's engine */
  engines: EngineFeedState;
  /** the selected row (what s/x/r/l act on) */
  selected: number;
  /** unit with a systemctl action in flight */
  busyUnit: string | null;
  width: number;
  height: number;
  focused: boolean;
  /** the filter, as the title says it */
  filterNote?: string | null;
  nowMs: number;
}

export function activeTone(active: string | null): Tone | null {
  switch (active) {
    case 'active':
      return 'ok';
    case 'activating':
    case 'deactivating':
    case 'reloading':
      return 'warn';
    case 'failed':
      return 'bad';
    case 'inactive':
      return 'dim';
    default:
      return null;
  }
}

function stateText(s: ServiceState, wide: boolean): string {
  if (s.loadState === 'not-found') return 'not-found';
  if (s.activeState === null) return NA;
  if (!wide) return s.subState ?? s.activeState;
  return s.subState ? `${s.activeState}/${s.subState}` : s.activeState;
}

function sinceSeconds(since: string | null, nowMs: number): number | null {
  if (!since) return null;
  const t = Date.parse(since);
  return Number.isNaN(t) ? null : Math.max(0, (nowMs - t) / 1000);
}

function EngineCellsText({ cells, columns, spare }: { cells: EngineCells; columns: readonly EngineColumn[]; spare: number }) {
  const theme = useTheme();
  if (columns.length === 0) return null;
  if (cells.kind === 'cells') {
    return columns.map((c) => (
      <Text key={c.id} color={theme.tone(cells.cells[c.id].tone)}>
        {' '}
        {fit(cells.cells[c.id].text, c.width, 'right')}
      </Text>
    ));
  }
  const spanW = columns.reduce((a, c) => a + c.width + 1, 0) - 1 + spare;
  if (cells.kind === 'span') return <Text color={theme.tone(cells.tone)}> {fit(cells.text, spanW)}</Text>;
  return <Text dimColor>{columns.map((c) => ` ${fit(cells.kind === 'none' ? '' : NA, c.width, 'right')}`).join('')}</Text>;
}

export const ServicesPanel = memo(function ServicesPanel(props: ServicesPanelProps) {
  const { state, engines, selected, busyUnit, width, height, focused, filterNote, nowMs } = props;
  const theme = useTheme();
  const answered = engines.updatedAt !== null;
  const withEngines = answered && state.services.some((s) => engineOf(engines, s.provider));
  const longestUnit = Math.max(0, ...state.services.map((s) => displayWidth(s.unit)));
  const { wide, unitW, stateW, engine: engineColumns, spare } = planServiceColumns(width, withEngines, longestUnit);
  const lines: React.ReactNode[] = [];
  const columns =
    `${fit('state', stateW)} ${fit('pid', PID_W, 'right')} ${fit('up', UP_W, 'right')} ${fit('health', HEALTH_W, 'right')} ${fit('gpu', GPU_W, 'right')}` +
    engineColumns.map((c) => ` ${fit(c.title, c.width, 'right')}`).join('') +
    ' '.repeat(spare);
  // wide: the column names ride on the title line; narrow: they need a line of their own
  if (!wide && state.services.length > 0) {
    lines.push(
      <Text key="head" dimColor wrap="truncate">
        {`  ${fit('unit', unitW)} ${columns}`}
      </Text>,
    );
  }
  if (state.notice) {
    lines.push(
      <Line key="notice" tone="warn">
        {state.notice}
      </Line>,
    );
  }
  if (state.services.length === 0 && state.notice !== READING_UNITS) {
    lines.push(
      <Line key="none" tone="dim">
        {filterNote ? 'no service matches the filter (Esc clears it)' : 'no services configured (providers.*.service)'}
      </Line>,
    );
  }
  const selectedError = state.services[selected]?.error ? 1 : 0;
  const { shown, window } = visibleRows(state.services, selected, 'select', Math.max(0, height - 1) - lines.length - selectedError);
  shown.forEach((s, i) => {
    const isSel = window.start + i === window.selected;
    const unit = wide || displayWidth(s.unit) <= unitW ? s.unit : s.unit.replace(/\.service$/, '');
    const up = s.activeState === 'active' ? duration(sinceSeconds(s.since, nowMs)) : NA;
    const health = s.health === 'none' ? NA : s.health;
    const busy = busyUnit === s.unit;
    lines.push(
      <Text key={s.unit} wrap="truncate" inverse={isSel && focused}>
        {isSel ? '▸ ' : '  '}
        <Text bold={isSel}>{fit(unit, unitW)}</Text>{' '}
        <Text color={theme.tone(s.error ? 'bad' : activeTone(s.activeState))}>{fit(busy ? '…' : stateText(s, wide), stateW)}</Text>{' '}
        {fit(s.mainPid ? String(s.mainPid) : NA, PID_W, 'right')} {fit(up, UP_W, 'right')}{' '}
        <Text color={theme.tone(s.health === 'ok' ? 'ok' : s.health === 'fail' ? 'bad' : null)}>{fit(health, HEALTH_W, 'right')}</Text>{' '}
        {fit(mib(s.gpuMemMiB), GPU_W, 'right')}
        <EngineCellsText cells={engineCells(engineOf(engines, s.provider), routingOf(engines, s.provider), answered)} columns={engineColumns} spare={spare} />
      </Text>,
    );
    if (s.error && isSel) {
      lines.push(
        <Text key={`${s.unit}-err`} color={theme.tone('bad')} wrap="truncate">
          {`    ${s.error}`}
        </Text>,
      );
    }
  });
  const summary = wide && !filterNote ? columns : undefined;
  return (
    <PanelFrame heading="services" focused={focused} width={width} height={height} summary={summary} note={filterNote}>
      {lines.slice(0, Math.max(0, height - 1))}
    </PanelFrame>
  );
});
