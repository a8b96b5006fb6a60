// System tools some suites drive for real (tmux, promtool, prometheus, redis-server). They come
// from Debian packages that `.ci/run` installs. Under CI a missing tool is a broken setup and
// fails loudly; on a developer's machine the suite is skipped with one line saying what to
// install, so `npm test` still runs everything else.
import { spawnSync } from 'node:child_process';

export interface SystemTool {
  /** the executable looked up on PATH */
  command: string;
  /** arguments that make it print its version and exit 0 */
  versionArgs: string[];
  /** the Debian package that brings it */
  debianPackage: string;
}

export const TOOLS = {
  tmux: { command: 'tmux', versionArgs: ['-V'], debianPackage: 'tmux' },
  promtool: { command: 'promtool', versionArgs: ['--version'], debianPackage: 'prometheus' },
  prometheus: { command: 'prometheus', versionArgs: ['--version'], debianPackage: 'prometheus' },
  redis: { command: 'redis-server', versionArgs: ['--version'], debianPackage: 'redis-server' },
} satisfies Record<string, SystemTool>;

const seen = new Map<string, boolean>();

/**
 * True when the tool runs. When it does not: under CI=true this throws (so the run fails with
 * the reason instead of quietly testing less); otherwise it prints one line and returns false,
 * for `describe.skipIf(!hasTool(...))`.
 */
export function hasTool(tool: SystemTool): boolean {
  const known = seen.get(tool.command);
  if (known !== undefined) return known;
  const probe = spawnSync(tool.command, tool.versionArgs, { stdio: 'ignore' });
  const ok = !probe.error && probe.status === 0;
  seen.set(tool.command, ok);
  if (!ok) {
    const why = `${tool.command} is not installed (Debian package "${tool.debianPackage}"; \`bash .ci/run\` installs it)`;
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`${why}: CI needs it for this suite`);
    console.warn(`skipping: ${why}`);
  }
  return ok;
}
