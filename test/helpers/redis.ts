// A real redis-server for tests, on a free loopback port with persistence off, so a test can
// kill -9 it, pause it (SIGSTOP), resume it, flush it and start it again empty on the same port.
// Callers skip with `describe.skipIf(!hasTool(TOOLS.redis))`.
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './gateway.js';

export interface RedisServer {
  port: number;
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  readonly pid: number;
  /** a client of the test's own (closed by stop) */
  client(): Redis;
  /** starts it again (empty) on the same port after kill9 or stop */
  restart(): Promise<void>;
  kill9(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface RedisOptions {
  password?: string;
}

function spawnRedis(port: number, o: RedisOptions): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  if (o.password) args.push('--requirepass', o.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  child.stderr!.resume();
  let exited = false;
  child.once('exit', () => (exited = true));
  return waitFor(
    () => {
      if (exited) throw new Error(`redis-server on port ${port} exited:\n${out}`);
      return out.includes('Ready to accept connections') ? child : undefined;
    },
    'redis-server to accept connections',
    15_000,
  );
}

export async function startRedis(o: RedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  let child = await spawnRedis(port, o);
  let own: Redis | null = null;
  const auth = o.password ? `:${encodeURIComponent(o.password)}@` : '';
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));
  const server: RedisServer = {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    client() {
      own ??= new Redis({ port, host: '127.0.0.1', password: o.password, lazyConnect: false, maxRetriesPerRequest: 1 });
      return own;
    },
    async restart() {
      child = await spawnRedis(port, o);
    },
    async kill9() {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited(child);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      own?.disconnect();
      own = null;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited(child);
    },
  };
  return server;
}
