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
//   ptui:rx:<gw>, ptui:ra:<gw>  that gateway's reservations: member "<rid>|<bid>" -> expiry ms / usd
// <bid> is "<scope>:<window seconds>:<target>", so budgets with different windows never mix.
//
// Spend is written as absolute per-bucket values: the global bucket moves by (new - old) of the
// writer's own bucket, so a retried or replayed write changes nothing. A gateway whose heartbeat
// has expired no longer counts its reservations (it is dead or cut off); every reservation also
// carries its own expiry, the request's deadline plus a margin.

const COMMON = `
local P = 'ptui:'
local function fmt(x) return string.format('%.17g', x) end

-- Rolls the budget's global window forward to now; returns the newest bucket index and the total.
local function roll(bid, now, bms, n)
  local wk = P .. 'w:' .. bid
  local idx = math.floor(now / bms)
  local ttl = (n + 1) * bms
  local head = redis.call('HMGET', wk, 'cur', 'tot')
  local cur = tonumber(head[1])
  if not cur then
    redis.call('HSET', wk, 'cur', idx, 'tot', 0)
    redis.call('PEXPIRE', wk, ttl)
    return idx, 0
  end
  if idx <= cur then return cur, tonumber(head[2]) or 0 end
  if idx - cur >= n then
    redis.call('DEL', wk)
    redis.call('HSET', wk, 'cur', idx, 'tot', 0)
    redis.call('PEXPIRE', wk, ttl)
    return idx, 0
  end
  for i = cur + 1, idx do redis.call('HDEL', wk, 'b' .. (i - n)) end
  -- re-summing once per bucket step keeps float residue from adding up
  local all = redis.call('HGETALL', wk)
  local t = 0
  for j = 1, #all, 2 do
    if string.sub(all[j], 1, 1) == 'b' then t = t + tonumber(all[j + 1]) end
  end
  redis.call('HSET', wk, 'cur', idx, 'tot', fmt(t))
  redis.call('PEXPIRE', wk, ttl)
  return idx, t
end

-- Sets this gateway's own spend in bucket idx to usd (absolute) and moves the global window by the difference.
local function setOwn(bid, gw, idx, usd, cur, n, bms)
  local gk = P .. 'g:' .. bid .. ':' .. gw
  local old = tonumber(redis.call('HGET', gk, idx)) or 0
  if usd == old then return end
  if usd > 0 then redis.call('HSET', gk, idx, fmt(usd)) else redis.call('HDEL', gk, idx) end
  redis.call('PEXPIRE', gk, (n + 1) * bms)
  if idx > cur - n and idx <= cur then
    local wk = P .. 'w:' .. bid
    local d = usd - old
    redis.call('HINCRBYFLOAT', wk, 'b' .. idx, fmt(d))
    redis.call('HINCRBYFLOAT', wk, 'tot', fmt(d))
  end
end

local function release(gw, m)
  local ak = P .. 'ra:' .. gw
  redis.call('ZREM', P .. 'rx:' .. gw, m)
  local usd = tonumber(redis.call('HGET', ak, m))
  if not usd then return end
  redis.call('HDEL', ak, m)
  local bar = string.find(m, '|', 1, true)
  if not bar then return end
  local rk = P .. 'r:' .. string.sub(m, bar + 1)
  local left = (tonumber(redis.call('HGET', rk, gw)) or 0) - usd
  if left < 1e-9 then redis.call('HDEL', rk, gw) else redis.call('HSET', rk, gw, fmt(left)) end
end

-- alive[gw]: its heartbeat exists; released[gw]: expired reservations were just dropped
local purged = {}
local released = {}
local function alive(gw, now)
  if purged[gw] ~= nil then return purged[gw] end
  local ok = redis.call('EXISTS', P .. 'gw:' .. gw) == 1
  if ok then
    local gone = redis.call('ZRANGEBYSCORE', P .. 'rx:' .. gw, '-inf', now, 'LIMIT', 0, 256)
    for _, m in ipairs(gone) do release(gw, m) end
    released[gw] = #gone > 0
  else
    redis.call('DEL', P .. 'rx:' .. gw, P .. 'ra:' .. gw)
  end
  purged[gw] = ok
  return ok
end

-- Reserved dollars of one budget: live gateways only, expired reservations dropped. Returns the
-- total and a flat list gw, usd for the split.
local function reservedOf(bid, now)
  local rk = P .. 'r:' .. bid
  local all = redis.call('HGETALL', rk)
  local t = 0
  local split = {}
  for j = 1, #all, 2 do
    local gw = all[j]
    if alive(gw, now) then
      local v = tonumber(all[j + 1]) or 0
      if released[gw] then v = tonumber(redis.call('HGET', rk, gw)) or 0 end
      if v > 0 then
        t = t + v
        split[#split + 1] = gw
        split[#split + 1] = fmt(v)
      end
    else
      redis.call('HDEL', rk, gw)
    end
  end
  return t, split
end
`;

/**
 * Check and reserve, for one request. ARGV: now, gw, rid, expiry_ms, count, then per budget
 * bid, bucket_ms, buckets, limit, usd. Reply: {admitted 0|1, own_heartbeat 0|1, then per budget
 * spend, reserved, blocked 0|1}. Reserves on every budget or on none.
 */
export const RESERVE_LUA = `${COMMON}
local now = tonumber(ARGV[1]); local gw = ARGV[2]; local rid = ARGV[3]; local expiry = tonumber(ARGV[4])
local count = tonumber(ARGV[5])
local out = {1, redis.call('EXISTS', P .. 'gw:' .. gw)}
local admitted = true
for i = 0, count - 1 do
  local o = 6 + i * 5
  local bid = ARGV[o]; local bms = tonumber(ARGV[o + 1]); local n = tonumber(ARGV[o + 2]); local limit = tonumber(ARGV[o + 3])
  local _, tot = roll(bid, now, bms, n)
  if tot < 0 then tot = 0 end
  local res = reservedOf(bid, now)
  local blocked = tot + res >= limit
  if blocked then admitted = false end
  out[#out + 1] = fmt(tot); out[#out + 1] = fmt(res); out[#out + 1] = blocked and 1 or 0
end
if admitted and out[2] == 1 then
  local ttl = expiry - now + 60000
  for i = 0, count - 1 do
    local o = 6 + i * 5
    local bid = ARGV[o]; local usd = tonumber(ARGV[o + 4])
    if usd > 0 then
      local m = rid .. '|' .. bid
      redis.call('HINCRBYFLOAT', P .. 'r:' .. bid, gw, fmt(usd))
      redis.call('PEXPIRE', P .. 'r:' .. bid, ttl)
      redis.call('ZADD', P .. 'rx:' .. gw, expiry, m)
      redis.call('HSET', P .. 'ra:' .. gw, m, fmt(usd))
    end
  end
  redis.call('PEXPIRE', P .. 'rx:' .. gw, ttl)
  redis.call('PEXPIRE', P .. 'ra:' .. gw, ttl)
elseif out[2] == 0 then
  -- our heartbeat is gone (Redis restarted or flushed): reservations would not count; the caller re-claims
  admitted = false
end
out[1] = admitted and 1 or 0
return out
`;

/**
 * Settle: releases reservations and writes this gateway's absolute bucket values.
 * ARGV: now, gw, n_releases, members..., n_sets, then per set bid, bucket_ms, buckets, idx, usd.
 */
export const SETTLE_LUA = `${COMMON}
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
return nsets
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
 * spend split (flat gw, usd), reserved split (flat gw, usd)}}.
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
  for _, gw in ipairs(live) do
    local own = redis.call('HGETALL', P .. 'g:' .. bid .. ':' .. gw)
    local s = 0
    for j = 1, #own, 2 do
      local idx = tonumber(own[j])
      if idx and idx > cur - n and idx <= cur then s = s + tonumber(own[j + 1]) end
    end
    if s > 0 then ssplit[#ssplit + 1] = gw; ssplit[#ssplit + 1] = fmt(s) end
  end
  out[#out + 1] = {fmt(tot), fmt(res), ssplit, rsplit}
end
return out
`;

/**
 * Claims or refreshes this gateway's heartbeat. ARGV: gw, instance, meta json, ttl_ms.
 * Reply: {0, holder json} when another instance holds the id; {1} refreshed; {2} newly set
 * (first start, or Redis lost our state: the caller republishes).
 */
export const HEARTBEAT_LUA = `
local P = 'ptui:'
local k = P .. 'gw:' .. ARGV[1]
local v = redis.call('GET', k)
if v then
  local ok, holder = pcall(cjson.decode, v)
  if ok and type(holder) == 'table' and holder.instance ~= ARGV[2] then return {0, v} end
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
