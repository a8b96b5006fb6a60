// A full-screen, scrollable list of lines: what the routing, journal and help views render.
import { memo } from 'react';
import { Text } from 'ink';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';
import { PanelFrame } from './PanelFrame.js';

export interface ViewLine {
  text: string;
  tone?: Tone | null;
  bold?: boolean;
}

export interface TextViewProps {
  title: string;
  lines: readonly ViewLine[];
  /** first line shown; clamped so the last page stays full */
  offset: number;
  width: number;
  height: number;
  footer?: string;
}

/** The offset clamped to what can be scrolled, for the App to keep its state honest. */
export function clampOffset(offset: number, lineCount: number, height: number): number {
  return Math.max(0, Math.min(offset, lineCount - Math.max(1, height - 1)));
}

export const TextView = memo(function TextView({ title, lines, offset, width, height, footer }: TextViewProps) {
  const theme = useTheme();
  const body = Math.max(1, height - 1);
  const start = clampOffset(offset, lines.length, height);
  const shown = lines.slice(start, start + body);
  const position = lines.length > body ? `${start + 1}-${start + shown.length}/${lines.length}` : '';
  const summary = [position, footer ?? 'Esc close'].filter(Boolean).join(' · ');
  return (
    <PanelFrame index={null} title={title} focused width={width} height={height} summary={summary}>
      {shown.map((l, i) => (
        <Text key={start + i} wrap="truncate" color={theme.tone(l.tone)} bold={l.bold}>
          {l.text === '' ? ' ' : l.text}
        </Text>
      ))}
    </PanelFrame>
  );
});
