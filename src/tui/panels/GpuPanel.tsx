// GPUs: one line per GPU (util with its recent history, memory, temperature, power), then the
// compute processes with the service their memory is charged to.
import React, { memo } from 'react';
import { Text } from 'ink';
import type { GpuSample, GpuState } from '../../system/types.js';
import { NA, cut, displayWidth, fit, mib, num, sparkline } from '../presentation/format.js';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';
import { PanelFrame } from './PanelFrame.js';
import { Line } from './Line.js';

export interface GpuPanelProps {
  state: GpuState;
  /** pid -> systemd unit whose MainPID (or a descendant of it) the pid is */
  owners: ReadonlyMap<number, string>;
  width: number;
  height: number;
  focused: boolean;
}

export function utilTone(pct: number | null): Tone | null {
  if (pct === null) return null;
  if (pct >= 90) return 'bad';
  if (pct >= 60) return 'warn';
  return 'ok';
}

function tempTone(c: number | null): Tone | null {
  if (c === null) return null;
  if (c >= 85) return 'bad';
  if (c >= 75) return 'warn';
  return null;
}

function shortName(name: string): string {
  return name.replace(/^NVIDIA\s+/i, '').replace(/^GeForce\s+/i, '');
}

function GpuLine({ gpu, width }: { gpu: GpuSample; width: number }) {
  const theme = useTheme();
  const util = fit(num(gpu.utilPct, 0, '%'), 4, 'right');
  const used = gpu.memUsedMiB === null ? NA : (gpu.memUsedMiB / 1024).toFixed(1);
  const total = gpu.memTotalMiB === null ? NA : `${(gpu.memTotalMiB / 1024).toFixed(1)}G`;
  const mem = fit(`${used}/${total}`, 11, 'right');
  const temp = fit(num(gpu.tempC, 0, '°C'), 4, 'right');
  const power =
    width >= 70 && gpu.powerLimitW !== null
      ? fit(`${num(gpu.powerW, 0)}/${num(gpu.powerLimitW, 0)}W`, 9, 'right')
      : fit(num(gpu.powerW, 0, 'W'), 5, 'right');
  const fixed = 2 + 1 + util.length + 1 + 1 + mem.length + 1 + temp.length + 1 + power.length;
  const nameWidth = Math.max(6, Math.min(22, Math.floor((width - fixed) * 0.45)));
  const sparkWidth = Math.max(0, width - fixed - nameWidth - 1);
  return (
    <Text wrap="truncate">
      {fit(String(gpu.index), 2)}
      {fit(shortName(gpu.name), nameWidth)}{' '}
      <Text color={theme.tone(utilTone(gpu.utilPct))}>{util}</Text>{' '}
      <Text color={theme.tone('accent')}>{gpu.utilPct === null ? ' '.repeat(sparkWidth) : sparkline(gpu.utilHistory, sparkWidth)}</Text>{' '}
      {mem} <Text color={theme.tone(tempTone(gpu.tempC))}>{temp}</Text> {power}
    </Text>
  );
}

export const GpuPanel = memo(function GpuPanel({ state, owners, width, height, focused }: GpuPanelProps) {
  const theme = useTheme();
  const body = height - 1;
  const summary = state.gpus.length > 0 ? `${state.gpus.length} GPU${state.gpus.length > 1 ? 's' : ''}` : undefined;
  const lines: React.ReactNode[] = [];
  if (state.notice) {
    lines.push(
      <Line key="notice" tone={state.available ? 'warn' : 'dim'}>
        {state.notice}
      </Line>,
    );
  } else if (state.gpus.length === 0) {
    lines.push(
      <Line key="wait" tone="dim">
        waiting for nvidia-smi…
      </Line>,
    );
  }
  for (const gpu of state.gpus) lines.push(<GpuLine key={gpu.uuid} gpu={gpu} width={width} />);
  const room = body - lines.length;
  if (room > 0 && state.processes.length > 0) {
    const indexByUuid = new Map(state.gpus.map((g) => [g.uuid, g.index]));
    const procs = [...state.processes].sort((a, b) => (b.usedMemMiB ?? -1) - (a.usedMemMiB ?? -1));
    const shown = procs.length > room ? procs.slice(0, room - 1) : procs;
    for (const p of shown) {
      const owner = owners.get(p.pid);
      const gpu = indexByUuid.get(p.gpuUuid);
      const head = `  ${fit(gpu === undefined ? '?' : String(gpu), 2)}${fit(String(p.pid), 8, 'right')} ${fit(mib(p.usedMemMiB), 6, 'right')} `;
      const name = p.name.split('/').pop() || p.name;
      const nameWidth = Math.max(4, width - head.length - (owner ? displayWidth(owner) + 3 : 0));
      lines.push(
        <Text key={`p${p.gpuUuid}${p.pid}`} wrap="truncate">
          <Text dimColor>{head}</Text>
          {cut(name, nameWidth)}
          {owner ? <Text color={theme.tone('accent')}>{` → ${owner}`}</Text> : null}
        </Text>,
      );
    }
    if (shown.length < procs.length) {
      lines.push(
        <Text key="more" dimColor wrap="truncate">
          {`  … ${procs.length - shown.length} more processes`}
        </Text>,
      );
    }
  }
  return (
    <PanelFrame heading="gpus" focused={focused} width={width} height={height} summary={summary}>
      {lines.slice(0, Math.max(0, body))}
    </PanelFrame>
  );
});
