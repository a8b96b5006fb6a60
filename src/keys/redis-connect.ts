// `ptui keys` in shared mode: one short connection to the Redis that gateway.yaml `shared:` names,
// made once (no retries: a command line should fail fast and say why), then the key store on it.
// Loaded only in shared mode, so `ptui keys` on a single box never loads the Redis client.
import { Redis } from 'ioredis';
import { describeRedisError, displayUrl, redisOptions } from '../config/redis-options.js';
import type { SharedConfig } from '../config/schema.js';
import { RedisKeyStore } from './redis-store.js';
import { KeyStoreError } from './store.js';

const CLI_CONNECT_TIMEOUT_MS = 3000;

export async function openRedisKeyStore(shared: SharedConfig, home: string): Promise<RedisKeyStore> {
  const url = displayUrl(shared.redis_url);
  const client = new Redis({ ...redisOptions(shared, home, 'ptui-keys'), connectTimeout: CLI_CONNECT_TIMEOUT_MS, retryStrategy: () => null });
  let lastError: string | null = null;
  client.on('error', (err: Error) => {
    lastError = err.message;
  });
  try {
    await client.connect();
    // a server that accepted the connection but not the credentials says so here
    await client.ping();
  } catch (err) {
    client.disconnect();
    const why = describeRedisError(url, lastError ?? (err as Error).message);
    throw new KeyStoreError('unreachable', `shared mode keeps the keys in Redis: ${why}`);
  }
  return new RedisKeyStore(client, `Redis at ${url}`, null, () => client.disconnect());
}
