// Requests: the newest rows of the usage log, newest on top; scrolls back when focused.
import React, { memo } from 'react';
import { Text } from 'ink';
import type { StoredUsageRow } from '../../usage/schema.js';
import { NA, clock, fit, usd } from '../presentation/format.js';
import { useTheme } from '../contexts/ThemeContext.js';
import { visibleRows } from '../presentation/listCursor.js';
import { PanelFrame } from './PanelFrame.js';
import { Line, noticeLines } from './Line.js';

export interface RequestsPanelProps {
  /** newest first */
  rows: readonly StoredUsageRow[];
  /** the selected row, from the newest (0 = following new rows) */
  offset: number;
  notice: string | null;
  width: number;
  height: number;
  focused: boolean;
  /** the filter, as the title says it */
  filterNote?: string | null;
}

function latency(ms: number | null): string {
  if (ms === null) return NA;
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

function tokens(r: StoredUsageRow): string {
  if (r.prompt_tokens === null && r.completion_tokens === null) return NA;
  return `${r.prompt_tokens ?? NA}/${r.completion_tokens ?? NA}`;
}

function note(r: StoredUsageRow): string {
  if (r.status === 'error') return r.error_type ?? '';
  const parts = [r.stream ? 'stream' : '', r.cache_hit ? 'cache hit' : '', r.attempts > 1 ? `${r.attempts} tries` : ''];
  return parts.filter(Boolean).join(' ');
}

interface Layout {
  time: number;
  model: number;
  provider: number;
  status: number;
  latency: number;
  tokens: number;
  cost: number;
  note: number;
}

/** Narrow terminals give up the token column before the note, which holds the error type. */
function layout(width: number): Layout {
  const wide = { time: 8, provider: 10, status: 7, latency: 7, tokens: 11, cost: 8 };
  const base = width - 58 >= 40 ? wide : { ...wide, tokens: 0 };
  const fixed = base.time + base.provider + base.status + base.latency + base.tokens + base.cost + (base.tokens ? 7 : 6);
  const rest = width - fixed;
  if (rest >= 30) {
    const model = Math.min(28, Math.floor(rest * (base.tokens ? 0.5 : 0.42)));
    return { ...base, model, note: rest - model - 1 };
  }
  return { ...base, model: Math.max(6, rest), note: 0 };
}

/** ` text` in a column of `width`, or nothing when the layout dropped the column. */
const column = (text: string, width: number, align: 'left' | 'right' = 'left') => (width > 0 ? ` ${fit(text, width, align)}` : '');

function header(l: Layout): string {
  return (
    `${fit('time', l.time)} ${fit('model', l.model)} ${fit('provider', l.provider)} ${fit('status', l.status)} ` +
    `${fit('latency', l.latency, 'right')}${column('tok in/out', l.tokens, 'right')} ${fit('cost', l.cost, 'right')}` +
    column('note', l.note)
  );
}

const RequestLine = memo(function RequestLine({ row, l, selected }: { row: StoredUsageRow; l: Layout; selected: boolean }) {
  const theme = useTheme();
  const ok = row.status === 'success';
  return (
    <Text wrap="truncate" inverse={selected}>
      <Text dimColor>{fit(clock(row.timestamp), l.time)}</Text> {fit(row.logical_model ?? NA, l.model)}{' '}
      {fit(row.provider ?? NA, l.provider)}{' '}
      <Text color={theme.tone(ok ? 'ok' : 'bad')}>{fit(`${ok ? 'ok' : 'err'} ${row.http_status ?? NA}`, l.status)}</Text>{' '}
      {fit(latency(row.latency_ms), l.latency, 'right')}
      {column(tokens(row), l.tokens, 'right')} {fit(usd(row.cost_usd), l.cost, 'right')}
      {l.note > 0 ? <Text color={theme.tone(ok ? 'dim' : 'bad')}>{column(note(row), l.note)}</Text> : null}
    </Text>
  );
});

export const RequestsPanel = memo(function RequestsPanel({ rows, offset, notice, width, height, focused, filterNote }: RequestsPanelProps) {
  const l = layout(width);
  const body = Math.max(0, height - 1);
  const lines: React.ReactNode[] = noticeLines(notice);
  lines.push(
    <Text key="head" dimColor wrap="truncate">
      {header(l)}
    </Text>,
  );
  const room = Math.max(0, body - lines.length);
  const { shown, window } = visibleRows(rows, offset, 'select', room);
  shown.forEach((row, i) => lines.push(<RequestLine key={row.id} row={row} l={l} selected={focused && window.start + i === window.selected} />));
  if (rows.length === 0 && !notice && room > 0) {
    lines.push(
      <Line key="empty" tone="dim">
        {filterNote ? 'no request matches the filter (Esc clears it)' : 'no requests yet'}
      </Line>,
    );
  }
  const summary = window.selected ? `row ${window.selected + 1}/${rows.length} · paused · g follows` : rows.length > 0 ? 'following new rows' : undefined;
  return (
    <PanelFrame heading="requests" focused={focused} width={width} height={height} summary={summary} note={filterNote}>
      {lines.slice(0, body)}
    </PanelFrame>
  );
});
