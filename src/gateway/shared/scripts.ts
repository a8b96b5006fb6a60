// The Lua scripts every gateway runs against the shared Redis. Each is one atomic round trip;
// ioredis sends them by SHA (EVALSHA) and loads them again after a restart wiped the script
// cache. Key names are built inside the scripts from one prefix, so they assume a single Redis
// (not Redis Cluster).
//
// Layout (README "Several boxes" describes it for operators):
//   ptui:gw:<gw>             heartbeat of one gateway: JSON {instance, host, pid, port, started_ms}, with a TTL
//   ptui:gws                 hash gw -> the same JSON, for listing (entries whose heartbeat expired are pruned)
//   ptui:w:<bid>             one budget's global window: `cur` (newest bucket index), `tot`, b<idx> -> spend
//   ptui:g:<bid>:<gw>        one gateway's own spend per bucket, absolute values (<idx> -> spend)
//   ptui:r:<bid>             reserved dollars per gateway (gw -> usd) for requests in flight
//   ptui:rx:<gw>, ptui:ra:<gw>  that gateway's reservations: member "<rid>|<bid>" -> expiry ms / usd;
//                            its budget leases are the members "lease|<bid>" (leases.ts)
// <bid> is "<scope>:<window seconds>:<target>", so budgets with different windows never mix.
//
// Spend is written as absolute per-bucket values: the global bucket moves by (new - old) of the
// writer's own bucket, so a retried or replayed write changes nothing. A gateway whose heartbeat
// has expired no longer counts its reservations (it is dead or cut off); every reservation also
// carries its own expiry, the request's deadline plus a margin.

import { COMMON } from './lua-common.js';

/**
 * Check and reserve, for one request. ARGV: now, gw, rid, expiry_ms, count, then per budget
 * bid, bucket_ms, buckets, limit, usd, lease_back (the free part of this gateway's lease on it,
 * handed back first). Reply: {admitted 0|1, own_heartbeat 0|1, then per budget spend, reserved,
 * blocked 0|1}. Reserves on every budget or on none.
 */
export const RESERVE_LUA = `${COMMON}
local now = tonumber(ARGV[1]); local gw = ARGV[2]; local rid = ARGV[3]; local expiry = tonumber(ARGV[4])
local count = tonumber(ARGV[5])
local W = 6
if redis.call('EXISTS', P .. 'gw:' .. gw) == 0 then
  -- our heartbeat is gone (Redis restarted or was flushed): reservations would not count; the caller re-claims
  return {0, 0}
end
local out = {1, 1}
local admitted = true
for i = 0, count - 1 do
  local o = 6 + i * W
  local bid = ARGV[o]; local bms = tonumber(ARGV[o + 1]); local n = tonumber(ARGV[o + 2]); local limit = tonumber(ARGV[o + 3])
  local back = tonumber(ARGV[o + 5])
  if back > 0 then shrinkLease(bid, gw, back) end
  local _, tot = roll(bid, now, bms, n)
  if tot < 0 then tot = 0 end
  local res = reservedOf(bid, now)
  local blocked = tot + res >= limit
  if blocked then admitted = false end
  out[#out + 1] = fmt(tot); out[#out + 1] = fmt(res); out[#out + 1] = blocked and 1 or 0
end
if admitted then
  local ttl = expiry - now + 60000
  for i = 0, count - 1 do
    local o = 6 + i * W
    local bid = ARGV[o]; local usd = tonumber(ARGV[o + 4])
    if usd > 0 then
      local m = rid .. '|' .. bid
      redis.call('HINCRBYFLOAT', P .. 'r:' .. bid, gw, fmt(usd))
      keepFor(P .. 'r:' .. bid, ttl)
      redis.call('ZADD', P .. 'rx:' .. gw, expiry, m)
      redis.call('HSET', P .. 'ra:' .. gw, m, fmt(usd))
    end
  end
  keepFor(P .. 'rx:' .. gw, ttl)
  keepFor(P .. 'ra:' .. gw, ttl)
end
out[1] = admitted and 1 or 0
return out
`;

/**
 * Republish: replaces this gateway's whole contribution to each budget with the given buckets
 * (what its usage log holds). ARGV: now, gw, count, then per budget bid, bucket_ms, buckets, m,
 * then m pairs idx, usd. Idempotent: running it twice leaves the same state.
 */
export const REPUBLISH_LUA = `${COMMON}
local now = tonumber(ARGV[1]); local gw = ARGV[2]
local count = tonumber(ARGV[3])
local o = 4
for i = 1, count do
  local bid = ARGV[o]; local bms = tonumber(ARGV[o + 1]); local n = tonumber(ARGV[o + 2]); local m = tonumber(ARGV[o + 3])
  o = o + 4
  local cur = roll(bid, now, bms, n)
  local gk = P .. 'g:' .. bid .. ':' .. gw
  local wk = P .. 'w:' .. bid
  local old = redis.call('HGETALL', gk)
  for j = 1, #old, 2 do
    local idx = tonumber(old[j])
    if idx and idx > cur - n and idx <= cur then
      local d = fmt(-tonumber(old[j + 1]))
      redis.call('HINCRBYFLOAT', wk, 'b' .. idx, d)
      redis.call('HINCRBYFLOAT', wk, 'tot', d)
    end
  end
  redis.call('DEL', gk)
  for j = 1, m do
    setOwn(bid, gw, tonumber(ARGV[o]), tonumber(ARGV[o + 1]), cur, n, bms)
    o = o + 2
  end
end
return count
`;

/**
 * Read-only view (plus pruning of what expired): the live gateways, and per budget the global
 * spend, the reserved total and the split per gateway. ARGV: now, count, then per budget bid,
 * bucket_ms, buckets. Reply: {gateways (flat gw, json), then per budget {spend, reserved,
 * spend split (flat gw, usd), reserved split (flat gw, usd), of that the leases (flat gw, usd)}}.
 */
export const STATUS_LUA = `${COMMON}
local now = tonumber(ARGV[1]); local count = tonumber(ARGV[2])
local gws = {}
local live = {}
local listed = redis.call('HGETALL', P .. 'gws')
for j = 1, #listed, 2 do
  if alive(listed[j], now) then
    live[#live + 1] = listed[j]
    gws[#gws + 1] = listed[j]; gws[#gws + 1] = listed[j + 1]
  else
    redis.call('HDEL', P .. 'gws', listed[j])
  end
end
local out = {gws}
for i = 0, count - 1 do
  local o = 3 + i * 3
  local bid = ARGV[o]; local bms = tonumber(ARGV[o + 1]); local n = tonumber(ARGV[o + 2])
  local cur, tot = roll(bid, now, bms, n)
  if tot < 0 then tot = 0 end
  local res, rsplit = reservedOf(bid, now)
  local ssplit = {}
  local lsplit = {}
  for _, gw in ipairs(live) do
    local own = redis.call('HGETALL', P .. 'g:' .. bid .. ':' .. gw)
    local s = 0
    for j = 1, #own, 2 do
      local idx = tonumber(own[j])
      if idx and idx > cur - n and idx <= cur then s = s + tonumber(own[j + 1]) end
    end
    if s > 0 then ssplit[#ssplit + 1] = gw; ssplit[#ssplit + 1] = fmt(s) end
    local l = tonumber(redis.call('HGET', P .. 'ra:' .. gw, 'lease|' .. bid))
    if l and l > 0 then lsplit[#lsplit + 1] = gw; lsplit[#lsplit + 1] = fmt(l) end
  end
  out[#out + 1] = {fmt(tot), fmt(res), ssplit, rsplit, lsplit}
end
return out
`;

/**
 * Claims or refreshes this gateway's heartbeat. ARGV: gw, instance, meta json, ttl_ms, first
 * (1 on a process's first claim: whatever an earlier process of this instance reserved, killed
 * before it could settle, is released, since no one will settle it now).
 * Reply: {0, holder json} when another instance holds the id; {1} refreshed; {2} newly set
 * (first start, or Redis lost our state: the caller republishes).
 */
export const HEARTBEAT_LUA = `${COMMON}
local k = P .. 'gw:' .. ARGV[1]
local v = redis.call('GET', k)
if v then
  local ok, holder = pcall(cjson.decode, v)
  if ok and type(holder) == 'table' and holder.instance ~= ARGV[2] then return {0, v} end
end
if ARGV[5] == '1' then
  for _, m in ipairs(redis.call('HKEYS', P .. 'ra:' .. ARGV[1])) do release(ARGV[1], m) end
end
redis.call('SET', k, ARGV[3], 'PX', tonumber(ARGV[4]))
redis.call('HSET', P .. 'gws', ARGV[1], ARGV[3])
if v then return {1} end
return {2}
`;

/** Drops this gateway's heartbeat (clean shutdown) if it is still ours. ARGV: gw, instance. */
export const RESIGN_LUA = `
local P = 'ptui:'
local k = P .. 'gw:' .. ARGV[1]
local v = redis.call('GET', k)
if not v then return 0 end
local ok, holder = pcall(cjson.decode, v)
if ok and type(holder) == 'table' and holder.instance == ARGV[2] then
  redis.call('DEL', k)
  redis.call('HDEL', P .. 'gws', ARGV[1])
  return 1
end
return 0
`;
