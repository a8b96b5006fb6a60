// What the status line reports besides the key hints: the last outcome for a while (a flash),
// and an error that stays until it is dismissed (Esc) or read whole (Enter), whichever panel
// has the focus meanwhile, so a failed action is never gone before it could be read.
import { useCallback, useMemo, useState } from 'react';
import type { StatusMessage } from '../presentation/statusLine.js';
import { useLatestState } from './useLatestState.js';

export interface Flash extends StatusMessage {
  at: number;
}

/** An error kept on the status line, with everything there is to read about it. */
export interface Alert {
  title: string;
  message: string;
  /** the whole text (a command's output), shown when the alert is opened */
  lines: readonly string[];
}

export const FLASH_MS = 10_000;

export function useStatusMessages() {
  const [flash, setFlash] = useState<Flash | null>(null);
  const alert = useLatestState<Alert | null>(null);
  const say = useCallback((text: string, tone: StatusMessage['tone'] = null) => setFlash({ text, tone, at: Date.now() }), []);
  const { set: setAlert, get: currentAlert } = alert;
  /** an error that stays: the flash gives way to it at once */
  const raise = useCallback(
    (a: Alert) => {
      setFlash(null);
      setAlert(a);
    },
    [setAlert],
  );
  const dismiss = useCallback(() => setAlert(null), [setAlert]);
  const shownAlert = alert.value;
  return useMemo(
    () => ({ flash, say, alert: shownAlert, currentAlert, raise, dismiss }),
    [flash, say, shownAlert, currentAlert, raise, dismiss],
  );
}
