// The fake systemctl's units (test/fixtures/bin): what a test's units left running is ended
// after it (each started unit's MainPID is a real process of its own).
import fs from 'node:fs';
import path from 'node:path';

/** SIGTERM to the main process of each unit the fake started; units never started are skipped. */
export function stopSpawnedUnits(stateDir: string, units: readonly string[]): void {
  for (const unit of units) {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(stateDir, `${unit}.json`), 'utf8'));
      if (s.spawned && s.MainPID > 0) process.kill(s.MainPID);
    } catch {
      // not started, or gone
    }
  }
}
