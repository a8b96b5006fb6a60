// Host: CPU (with its recent history), memory, the disk holding the runtime dir, load.
import { memo } from 'react';
import { Text } from 'ink';
import type { HostState } from '../../system/types.js';
import { bytes, fit, num, pct, sparkline } from '../presentation/format.js';
import { useTheme } from '../contexts/ThemeContext.js';
import { PanelFrame } from './PanelFrame.js';
import { utilTone } from './GpuPanel.js';

export interface HostPanelProps {
  state: HostState;
  cpuHistory: readonly number[];
  width: number;
  height: number;
  focused: boolean;
}

function ratio(used: number | null, total: number | null): number | null {
  return used === null || total === null || total <= 0 ? null : (used / total) * 100;
}

export const HostPanel = memo(function HostPanel({ state, cpuHistory, width, height, focused }: HostPanelProps) {
  const theme = useTheme();
  const memPct = ratio(state.memUsedBytes, state.memTotalBytes);
  const diskPct = ratio(state.diskUsedBytes, state.diskTotalBytes);
  const cpu = fit(pct(state.cpuPct), 4, 'right');
  const cores = state.cores > 0 ? ` ${state.cores}c` : '';
  const spark = sparkline(cpuHistory, Math.max(0, width - 5 - cpu.length - 1 - cores.length));
  const load = [state.load1, state.load5, state.load15].map((l) => num(l, 2)).join(' ');
  const lines = [
    <Text key="cpu" wrap="truncate">
      {'CPU  '}
      <Text color={theme.tone(utilTone(state.cpuPct))}>{cpu}</Text>{' '}
      <Text color={theme.tone('accent')}>{spark}</Text>
      {cores}
    </Text>,
    <Text key="mem" wrap="truncate">
      {'Mem  '}
      <Text color={theme.tone(utilTone(memPct))}>{fit(pct(memPct), 4, 'right')}</Text>
      {` ${bytes(state.memUsedBytes)}/${bytes(state.memTotalBytes)}`}
    </Text>,
    <Text key="disk" wrap="truncate">
      {'Disk '}
      <Text color={theme.tone(utilTone(diskPct))}>{fit(pct(diskPct), 4, 'right')}</Text>
      {` ${bytes(state.diskUsedBytes)}/${bytes(state.diskTotalBytes)} `}
      <Text dimColor>{state.diskPath}</Text>
    </Text>,
    <Text key="load" wrap="truncate">
      {'Load '}
      {load}
    </Text>,
  ];
  return (
    <PanelFrame heading="host" focused={focused} width={width} height={height}>
      {lines.slice(0, Math.max(0, height - 1))}
    </PanelFrame>
  );
});
