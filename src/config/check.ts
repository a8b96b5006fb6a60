// `ptui config check`: every problem in one run, one line each, on stdout; a summary on stderr
// so scripts can parse stdout line by line. Exit 1 on any error; warnings alone exit 0.
import { loadConfig, type LoadOptions } from './load.js';
import { formatProblem, hasErrors } from './problems.js';

export function runConfigCheck(opts: LoadOptions): number {
  const { problems, paths } = loadConfig(opts);
  for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  if (hasErrors(problems)) {
    process.stderr.write(`config check: ${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${paths.configDir}\n`);
    return 1;
  }
  process.stderr.write(`config check: OK (${plural(warnings, 'warning')}) in ${paths.configDir}\n`);
  return 0;
}
