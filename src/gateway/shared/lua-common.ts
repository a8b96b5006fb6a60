// The Lua every shared-state script starts with: key names, the budget window roll, this
// gateway's absolute bucket writes, reservations (a request's, or a lease) and their release, and
// which gateways are alive. scripts.ts says what the keys hold (its header is the layout).
export const COMMON = `
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

-- Grows or lowers a key's expiry to at least ms from now (PEXPIRE alone could shorten it).
local function keepFor(k, ms)
  local t = redis.call('PTTL', k)
  if t == -1 or (t >= 0 and t < ms) then redis.call('PEXPIRE', k, ms) end
end

-- A lease is the reservation member 'lease|<bid>' of its gateway, counted like a request's.
-- Sets this gateway's lease on bid to usd (absolute), expiring at expiry. The caller keeps the
-- gateway's ra: and rx: keys alive as long (once per call, not once per lease).
local function setLease(bid, gw, usd, expiry, now)
  local m = 'lease|' .. bid
  if usd < 1e-9 then release(gw, m) return end
  local ak = P .. 'ra:' .. gw
  local rk = P .. 'r:' .. bid
  local xk = P .. 'rx:' .. gw
  local old = tonumber(redis.call('HGET', ak, m)) or 0
  if usd ~= old then
    redis.call('HSET', ak, m, fmt(usd))
    redis.call('HINCRBYFLOAT', rk, gw, fmt(usd - old))
  end
  redis.call('ZADD', xk, expiry, m)
  keepFor(rk, expiry - now + 60000)
end

-- Lowers this gateway's lease on bid by usd (what it hands back with an exact reservation).
local function shrinkLease(bid, gw, usd)
  local m = 'lease|' .. bid
  local ak = P .. 'ra:' .. gw
  local old = tonumber(redis.call('HGET', ak, m))
  if not old then return end
  if old - usd < 1e-9 then release(gw, m) return end
  redis.call('HSET', ak, m, fmt(old - usd))
  redis.call('HINCRBYFLOAT', P .. 'r:' .. bid, gw, fmt(-usd))
end
`;
