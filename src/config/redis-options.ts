// How ptui reaches the shared Redis of `gateway.yaml` `shared:`: the client options built from the
// URL and the tls block, the URL as messages may show it (never the password), and what an error
// from Redis means to an operator. Used by the gateway's link and by `ptui keys`, which both talk
// to that Redis. Types only from ioredis: the client itself is loaded where it is used.
import fs from 'node:fs';
import path from 'node:path';
import type { RedisOptions } from 'ioredis';
import type { SharedConfig } from './schema.js';

const CONNECT_TIMEOUT_MS = 1000;

/** The URL without credentials: what logs, /health and errors show. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'redis://(invalid url)';
  }
}

/** Redis answers that mean the credentials are wrong: a config problem, not an outage. */
export function isAuthError(message: string): boolean {
  return /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message);
}

/** One sentence for an operator about an error talking to the Redis at `url` (display form). */
export function describeRedisError(url: string, message: string): string {
  if (isAuthError(message)) return `Redis at ${url} refused the credentials (${message.split('\n')[0]!.slice(0, 120)})`;
  if (/ECONNREFUSED/.test(message)) return `Redis at ${url} refused the connection`;
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return `Redis host of ${url} does not resolve`;
  if (/ETIMEDOUT|connect/i.test(message)) return `Redis at ${url} does not answer (${message.slice(0, 120)})`;
  return `Redis at ${url}: ${message.slice(0, 160)}`;
}

/** Connection options from the URL and the tls block; query-string options are never read. */
export function redisOptions(shared: SharedConfig, home: string, name: string): RedisOptions {
  const u = new URL(shared.redis_url);
  const opts: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    connectionName: name,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    keepAlive: 1000,
    // commands issued in one event-loop turn go out in one write
    enableAutoPipelining: true,
    // 50 ms doubling to 2 s, with jitter so gateways do not reconnect in lockstep
    retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** Math.min(times, 6)) + Math.floor(Math.random() * 100),
  };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') {
    const read = (f: string | undefined) => (f ? fs.readFileSync(path.resolve(home, f)) : undefined);
    const t = shared.tls ?? {};
    opts.tls = { ca: read(t.ca_file), cert: read(t.cert_file), key: read(t.key_file), servername: t.servername ?? opts.host };
  }
  return opts;
}
