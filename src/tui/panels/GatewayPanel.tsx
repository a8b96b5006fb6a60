// Gateway: the gateway this console started or adopted, and the traffic through it; in shared
// mode, whether its Redis answers and how many gateways share it.
import React, { memo } from 'react';
import { Text } from 'ink';
import type { GatewayChildState, TrafficStats } from '../gatewayChild/state.js';
import { NA, duration, fit, num, wordWrap } from '../presentation/format.js';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';
import { PanelFrame } from './PanelFrame.js';

export interface GatewayPanelProps {
  state: GatewayChildState;
  stats: TrafficStats | null;
  /** seconds the rate and the other figures cover, for the title */
  rateWindowS: number;
  statsWindowS: number;
  width: number;
  height: number;
  focused: boolean;
  nowMs: number;
}

export function gatewayHeadline(s: GatewayChildState, nowMs: number): { text: string; tone: Tone | null } {
  switch (s.mode) {
    case 'running': {
      const notes = [s.adopted ? 'adopted' : '', s.health === 'degraded' ? 'degraded' : ''].filter(Boolean).join(', ');
      return { text: notes ? `● running (${notes})` : '● running', tone: s.health === 'degraded' ? 'warn' : 'ok' };
    }
    case 'starting':
      return { text: '◌ starting', tone: 'warn' };
    case 'probing':
      return { text: '◌ probing port', tone: 'dim' };
    case 'restarting': {
      const left = s.nextRestartAt === null ? 0 : Math.max(0, Math.ceil((s.nextRestartAt - nowMs) / 1000));
      return { text: `↻ restarting in ${left}s`, tone: 'bad' };
    }
    case 'port-taken':
      return { text: `✗ port ${s.port} held by another program`, tone: 'bad' };
    case 'disabled':
      return { text: '○ disabled (--no-gateway)', tone: 'dim' };
    case 'stopping':
      return { text: '◌ stopping', tone: 'dim' };
    case 'stopped':
      return { text: '○ stopped', tone: 'dim' };
  }
}

/** Shared mode's Redis in one line: connected with how many gateways share it, or why it is not. */
export function redisLine(s: NonNullable<GatewayChildState['shared']>): { text: string; tone: Tone } {
  if (s.state === 'up') return { text: `redis connected · ${s.gateways} gateway${s.gateways === 1 ? '' : 's'}`, tone: 'ok' };
  return { text: `redis degraded: ${s.reason ?? 'not answering'}`, tone: 'warn' };
}

function ms(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return NA;
  return v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : `${Math.round(v)}ms`;
}

export const GatewayPanel = memo(function GatewayPanel(props: GatewayPanelProps) {
  const { state, stats, rateWindowS, statsWindowS, width, height, focused, nowMs } = props;
  const theme = useTheme();
  const head = gatewayHeadline(state, nowMs);
  const up = state.startedAt !== null && state.mode === 'running' ? duration((nowMs - state.startedAt) / 1000) : NA;
  const errRate = stats && stats.requests > 0 ? (stats.errors / stats.requests) * 100 : null;
  const lines: React.ReactNode[] = [
    <Text key="head" wrap="truncate">
      <Text color={theme.tone(head.tone)}>{head.text}</Text>
      {state.mode === 'port-taken' || state.mode === 'disabled' ? '' : `  restarts ${state.restarts}`}
    </Text>,
    <Text key="proc" wrap="truncate">
      {`pid ${state.pid ?? NA}  ${state.host === '127.0.0.1' ? '' : state.host}:${state.port}  up ${up}`}
    </Text>,
    <Text key="rate" wrap="truncate">
      {fit(`${num(stats?.rps ?? null, stats && stats.rps < 10 ? 2 : 0)} req/s`, 12)}
      <Text color={theme.tone(errRate === null ? null : errRate >= 10 ? 'bad' : errRate > 0 ? 'warn' : 'ok')}>
        {`err ${num(errRate, errRate !== null && errRate < 10 && errRate > 0 ? 1 : 0, '%')}`}
      </Text>
    </Text>,
    <Text key="lat" wrap="truncate">
      {`p50 ${ms(stats?.p50LatencyMs ?? null)}  p95 ${ms(stats?.p95LatencyMs ?? null)}`}
    </Text>,
  ];
  if (state.shared && state.mode === 'running') {
    const r = redisLine(state.shared);
    const line = (
      <Text key="redis" wrap="truncate" color={theme.tone(r.tone)}>
        {r.text}
      </Text>
    );
    // degraded matters more than the figures: right under the headline
    if (state.shared.state === 'up') lines.push(line);
    else lines.splice(1, 0, line);
  }
  const detail = state.message ?? (state.mode === 'restarting' || state.mode === 'starting' ? state.lastExit : null);
  const body = Math.max(0, height - 1);
  if (detail) {
    // Why it is not running matters more than empty figures: right under the headline.
    const urgent = state.mode !== 'running';
    const wrapped = wordWrap(detail, width, urgent ? Math.max(1, body - 2) : 1).map((text, i) => (
      <Text key={`detail${i}`} color={theme.tone(urgent ? 'bad' : 'warn')} wrap="truncate">
        {text}
      </Text>
    ));
    if (urgent) lines.splice(1, 0, ...wrapped);
    else lines.splice(Math.min(lines.length, body - 1), 0, ...wrapped);
  }
  const shown = lines.slice(0, body);
  return (
    <PanelFrame heading="gateway" focused={focused} width={width} height={height} summary={`rate ${rateWindowS}s · lat ${statsWindowS}s`}>
      {shown}
    </PanelFrame>
  );
});
