// A panel: one title line (number, name, a summary on the right) and a body of a
// fixed size, cut to fit by each panel. No box border, so an 80×24 terminal keeps its lines for data.
import { memo, type ReactNode } from 'react';
import { Box, Text } from 'ink';
import { useTheme } from '../contexts/ThemeContext.js';
import { cut, displayWidth } from '../presentation/format.js';
import { panelNumber, panelTitle, type PanelId } from './catalog.js';

export interface PanelFrameProps {
  /** a dashboard panel (its number and title come from the catalog), or a view's own title */
  heading: PanelId | { title: string };
  focused: boolean;
  width: number;
  height: number;
  summary?: string;
  /** after the title, e.g. the list's filter: `filter: 429 · 12 of 3,400` (wins over the summary) */
  note?: string | null;
  children?: ReactNode;
}

export const PanelFrame = memo(function PanelFrame({ heading, focused, width, height, summary, note, children }: PanelFrameProps) {
  const theme = useTheme();
  const label = typeof heading === 'string' ? ` ${panelNumber(heading)} ${panelTitle(heading)} ` : ` ${heading.title} `;
  const noteText = note ? cut(` ${note} `, Math.max(0, width - 1 - displayWidth(label))) : '';
  const right = summary ? ` ${summary}` : '';
  const rightShown = displayWidth(label) + displayWidth(noteText) + displayWidth(right) + 1 <= width ? right : '';
  const fill = Math.max(0, width - 1 - displayWidth(label) - displayWidth(noteText) - displayWidth(rightShown));
  return (
    // No overflow clipping: every panel cuts its lines to its size itself, and a clipped box
    // makes Ink re-slice each of its lines on every frame (a third of a frame's cost).
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text dimColor={!focused}>─</Text>
        <Text bold inverse={focused} color={focused ? theme.tone('focus') : undefined}>
          {label}
        </Text>
        {noteText ? <Text color={theme.tone('accent')}>{noteText}</Text> : null}
        <Text dimColor>{'─'.repeat(fill)}</Text>
        <Text dimColor>{rightShown}</Text>
      </Text>
      <Box flexDirection="column" height={Math.max(0, height - 1)}>
        {children}
      </Box>
    </Box>
  );
});
