// Services: the configured systemd units in config order, with state, MainPID, uptime, the
// health probe and the GPU memory charged to them. The selected row is what s/x/r/l act on.
import React, { memo } from 'react';
import { Text } from 'ink';
import type { ServiceState, ServicesState } from '../../system/types.js';
import { NA, displayWidth, duration, fit, mib } from '../presentation/format.js';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';
import { visibleRows } from '../presentation/listCursor.js';
import { PanelFrame } from './PanelFrame.js';
import { Line } from './Line.js';
import { READING_UNITS } from '../data/initialState.js';

export interface ServicesPanelProps {
  state: ServicesState;
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

export const ServicesPanel = memo(function ServicesPanel(props: ServicesPanelProps) {
  const { state, selected, busyUnit, width, height, focused, filterNote, nowMs } = props;
  const theme = useTheme();
  const wide = width >= 64;
  const stateW = wide ? 17 : 10;
  const pidW = 7;
  const upW = 6;
  const healthW = 6;
  const gpuW = 6;
  const unitW = Math.max(6, width - 2 - stateW - pidW - upW - healthW - gpuW - 5);
  const lines: React.ReactNode[] = [];
  const columns = `${fit('state', stateW)} ${fit('pid', pidW, 'right')} ${fit('up', upW, 'right')} ${fit('health', healthW, 'right')} ${fit('gpu', gpuW, 'right')}`;
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
        {fit(s.mainPid ? String(s.mainPid) : NA, pidW, 'right')} {fit(up, upW, 'right')}{' '}
        <Text color={theme.tone(s.health === 'ok' ? 'ok' : s.health === 'fail' ? 'bad' : null)}>{fit(health, healthW, 'right')}</Text>{' '}
        {fit(mib(s.gpuMemMiB), gpuW, 'right')}
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
