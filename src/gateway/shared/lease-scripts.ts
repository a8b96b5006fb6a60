// The sync script: everything a gateway writes to the shared Redis after its requests, in one
// atomic round trip, batched off the response's path (budgets.ts sends it). It releases exact
// reservations, writes this gateway's absolute bucket values, and sets each changed budget lease
// (leases.ts) to its new value, then grants what a lease asked for out of the budget's headroom.
// Writing a settled request's cost into the buckets and out of the lease in the same call keeps
// the global spend plus reservations unchanged by it. Key layout: scripts.ts.
import { COMMON } from './lua-common.js';

/**
 * ARGV: now, gw, n_releases, members..., n_sets, then per set bid, bucket_ms, buckets, idx, usd;
 * then n_leases, and per lease bid, bucket_ms, buckets, limit, value (absolute), want, unit,
 * expiry_ms. A grant is at most the budget's headroom over twice the number of gateways, in
 * whole units (one request's estimate); under one unit it is none.
 * Reply: {own_heartbeat 0|1, then per lease the amount granted}. Without our heartbeat no lease
 * is set or granted: it would not count.
 */
export const SYNC_LUA = `${COMMON}
local now = tonumber(ARGV[1]); local gw = ARGV[2]
local nrel = tonumber(ARGV[3])
for i = 1, nrel do release(gw, ARGV[3 + i]) end
local o = 4 + nrel
local nsets = tonumber(ARGV[o])
for i = 0, nsets - 1 do
  local k = o + 1 + i * 5
  local bid = ARGV[k]; local bms = tonumber(ARGV[k + 1]); local n = tonumber(ARGV[k + 2])
  local cur = roll(bid, now, bms, n)
  setOwn(bid, gw, tonumber(ARGV[k + 3]), tonumber(ARGV[k + 4]), cur, n, bms)
end
o = o + 1 + nsets * 5
local nleases = tonumber(ARGV[o])
local beat = redis.call('EXISTS', P .. 'gw:' .. gw)
local out = {beat}
local live = nil
local kept = nil
for i = 0, nleases - 1 do
  local k = o + 1 + i * 8
  local bid = ARGV[k]; local bms = tonumber(ARGV[k + 1]); local n = tonumber(ARGV[k + 2]); local limit = tonumber(ARGV[k + 3])
  local value = tonumber(ARGV[k + 4]); local want = tonumber(ARGV[k + 5]); local unit = tonumber(ARGV[k + 6]); local expiry = tonumber(ARGV[k + 7])
  local g = 0
  if beat == 1 then
    setLease(bid, gw, value, expiry, now)
    kept = expiry - now + 60000
    if want > 0 then
      live = live or math.max(1, redis.call('HLEN', P .. 'gws'))
      local _, tot = roll(bid, now, bms, n)
      if tot < 0 then tot = 0 end
      local res = reservedOf(bid, now)
      g = math.min(want, (limit - tot - res) / (2 * live))
      if unit > 0 then
        g = math.floor(g / unit) * unit
        if g < unit then g = 0 end
      end
      if g > 0 then setLease(bid, gw, value + g, expiry, now) else g = 0 end
    end
  end
  out[#out + 1] = fmt(g)
end
if kept then keepFor(P .. 'ra:' .. gw, kept); keepFor(P .. 'rx:' .. gw, kept) end
return out
`;
