import { useEffect, useState } from 'react';

/** Wall-clock time, advanced every `everyMs`: what uptimes and countdowns are drawn against. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
