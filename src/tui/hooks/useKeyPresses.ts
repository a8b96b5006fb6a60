// Key presses from Ink's stdin, one call per key: a read holding several keys (`jj`, `3j`,
// two arrow sequences, a paste) is split into all of them, in order.
import { useEffect, useRef } from 'react';
import { useStdin } from 'ink';
import { keyPresses, type KeyPress } from '../keys/keyPress.js';

export function useKeyPresses(onKey: (key: KeyPress) => void): void {
  const { setRawMode, internal_eventEmitter: events } = useStdin();
  // The newest handler, without re-subscribing on every render: a key that arrives between a
  // render and its effects must not meet the previous screen's handler.
  const handler = useRef(onKey);
  handler.current = onKey;
  useEffect(() => {
    setRawMode(true);
    return () => setRawMode(false);
  }, [setRawMode]);
  useEffect(() => {
    const onInput = (data: string) => {
      for (const key of keyPresses(data)) handler.current(key);
    };
    events.on('input', onInput);
    return () => {
      events.off('input', onInput);
    };
  }, [events]);
}
