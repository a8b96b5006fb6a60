// Figures of the last run, for the README's Reliability section: printed, and written as JSON
// under $PTUI_FAULTS_REPORT_DIR (default <tmp>/ptui-faults) so a long run can be read afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function report(scenario: string, figures: Record<string, unknown>): void {
  const dir = process.env.PTUI_FAULTS_REPORT_DIR ?? path.join(os.tmpdir(), 'ptui-faults');
  const line = { scenario, at: new Date().toISOString(), ...figures };
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${scenario}.json`), JSON.stringify(line, null, 2) + '\n');
  } catch {
    // the figures are also printed below
  }
  console.log(`[faults] ${JSON.stringify(line)}`);
}
