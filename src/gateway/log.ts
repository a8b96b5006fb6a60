// Structured JSON log lines on stderr (one object a line). Never pass prompt or completion
// text, keys or headers here: callers log ids, names and counts only.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  /** whether debug lines are written: callers skip building their fields otherwise */
  readonly debugEnabled: boolean;
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let stderrGuarded = false;

/**
 * process.stderr with its write errors made harmless. The dashboard points the gateway's stderr
 * at runtime/logs/gateway.log: on a full disk (ENOSPC) or a vanished reader (EPIPE) Node emits
 * 'error' on the stream, and with no listener that is an uncaught exception that kills the
 * gateway. Losing log lines is better than losing the gateway; the stream keeps working once
 * the disk has room again.
 */
function writeStderr(line: string): void {
  if (!stderrGuarded) {
    stderrGuarded = true;
    process.stderr.on('error', () => {});
  }
  process.stderr.write(line);
}

export function createLogger(
  minLevel: LogLevel = (process.env.PTUI_LOG_LEVEL as LogLevel) || 'info',
  write: (line: string) => void = writeStderr,
): Logger {
  const min = ORDER[minLevel] ?? ORDER.info;
  const emit = (level: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }) + '\n');
  };
  return {
    debugEnabled: ORDER.debug >= min,
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  };
}
