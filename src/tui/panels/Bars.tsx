// The title line on top and the status line at the bottom of the screen.
import { memo } from 'react';
import { Text } from 'ink';
import { displayWidth, fit } from '../presentation/format.js';
import { useTheme } from '../contexts/ThemeContext.js';
import type { StatusMessage } from '../presentation/statusLine.js';

export const TitleBar = memo(function TitleBar({ left, right, width }: { left: string; right: string; width: number }) {
  const theme = useTheme();
  const r = displayWidth(right) + 2 < width ? right : '';
  return (
    <Text wrap="truncate" bold color={theme.tone('accent')}>
      {fit(left, Math.max(0, width - displayWidth(r)))}
      <Text bold={false} dimColor>
        {r}
      </Text>
    </Text>
  );
});

export const StatusBar = memo(function StatusBar({ message, width }: { message: StatusMessage; width: number }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate" color={theme.tone(message.tone)} inverse={message.tone === 'bad' && !theme.color}>
      {fit(message.text, width)}
    </Text>
  );
});

/** Shown instead of the panels below 80×24; the app recovers on the next resize. */
export const TooSmall = memo(function TooSmall({ columns, rows }: { columns: number; rows: number }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate" color={theme.tone('warn')}>
      {`terminal too small: ${columns}×${rows}, need 80×24 (q quits)`}
    </Text>
  );
});
