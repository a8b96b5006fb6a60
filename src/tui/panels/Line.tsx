// One line of a panel in a single tone, cut (never wrapped) at the panel's edge: notices,
// placeholders, messages.
import type React from 'react';
import { Text } from 'ink';
import { useTheme, type Tone } from '../contexts/ThemeContext.js';

export function Line({ tone, children }: { tone?: Tone | null; children: string }) {
  const theme = useTheme();
  return (
    <Text color={theme.tone(tone === 'dim' ? null : tone)} dimColor={tone === 'dim'} wrap="truncate">
      {children}
    </Text>
  );
}

/** A panel's notice (a feed that cannot read, a source that is missing) as its first line, or none. */
export function noticeLines(notice: string | null): React.ReactNode[] {
  return notice
    ? [
        <Line key="notice" tone="warn">
          {notice}
        </Line>,
      ]
    : [];
}
