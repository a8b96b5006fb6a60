// undici's Pool and Agent with their request() method, without the package's index. The index
// loads everything undici has (fetch, WebSocket, the cache stores, the mocks, the interceptors),
// about 10 MB of RSS in a gateway that uses none of it: the gateway's upstream pools, the health
// probes and the engine scrapes all go through `request` on a Pool or an Agent.
import { createRequire } from 'node:module';
import type { Agent as AgentType, Dispatcher, Pool as PoolType } from 'undici';

const require = createRequire(import.meta.url);
const DispatcherClass = require('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
// What undici's index does for every dispatcher, for the one method ptui calls.
DispatcherClass.prototype.request ??= require('undici/lib/api/api-request.js');

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof PoolType;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof AgentType;

// One agent for the GETs that go to a URL rather than to a provider's pool (scrapes, probes),
// as undici's top-level request() would use its global agent.
let shared: AgentType | null = null;

/** `request(url, opts)` as undici's top-level one: a GET or similar to a whole URL. */
export function requestUrl(url: string, opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return (shared ??= new Agent()).request({ ...opts, origin: u.origin, path: u.pathname + u.search });
}
