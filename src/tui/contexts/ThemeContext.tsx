// Colour is decided here, once: chalk (under Ink) ignores NO_COLOR, so every component asks
// the theme for a colour and gets `undefined` when colour is off.
import { createContext, useContext, type ReactNode } from 'react';

export type Tone = 'ok' | 'warn' | 'bad' | 'dim' | 'accent' | 'focus';

const TONE_COLORS: Record<Tone, string> = {
  ok: 'green',
  warn: 'yellow',
  bad: 'red',
  dim: 'gray',
  accent: 'cyan',
  focus: 'cyan',
};

export interface Theme {
  color: boolean;
  /** the Ink colour for a tone, or undefined when colour is off */
  tone(t: Tone | null | undefined): string | undefined;
}

export function makeTheme(color: boolean): Theme {
  return { color, tone: (t) => (color && t ? TONE_COLORS[t] : undefined) };
}

/** NO_COLOR (https://no-color.org): present and not empty turns colour off. */
export function colorAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}

const ThemeContext = createContext<Theme>(makeTheme(true));

export function ThemeProvider({ theme, children }: { theme: Theme; children: ReactNode }) {
  return <ThemeContext.Provider value={theme}>{children}</ThemeContext.Provider>;
}

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
