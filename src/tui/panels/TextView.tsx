// A full-screen, scrollable list of lines: what the routing, journal and help views render.
import { memo } from 'react';
import { Text } from 'ink';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';
import { visibleRows } from '../presentation/listCursor.js';
import { PanelFrame } from './PanelFrame.js';

export interface ViewLine {
  text: string;
  tone?: Tone | null;
  bold?: boolean;
}

export interface TextViewProps {
  title: string;
  lines: readonly ViewLine[];
  /** first line shown; the last page stays full */
  offset: number;
  width: number;
  height: number;
  footer?: string;
}

export const TextView = memo(function TextView({ title, lines, offset, width, height, footer }: TextViewProps) {
  const theme = useTheme();
  const body = Math.max(1, height - 1);
  const {
    shown,
    window: { start },
  } = visibleRows(lines, offset, 'scroll', body);
  const position = lines.length > body ? `${start + 1}-${start + shown.length}/${lines.length}` : '';
  const summary = [position, footer ?? 'Esc close'].filter(Boolean).join(' · ');
  return (
    <PanelFrame heading={{ title }} focused width={width} height={height} summary={summary}>
      {shown.map((l, i) => (
        <Text key={start + i} wrap="truncate" color={theme.tone(l.tone)} bold={l.bold}>
          {l.text === '' ? ' ' : l.text}
        </Text>
      ))}
    </PanelFrame>
  );
});
