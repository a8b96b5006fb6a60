// The Lua scripts of the shared rate limits (src/gateway/shared/rate-limits.ts says what they
// are for). One atomic round trip each; ioredis sends them by SHA.
//
// Layout: ptui:rl:<subject> is a hash r<second> -> requests and t<second> -> tokens over the last
// minute (the current second and the 59 before it, as the local counter counts); older seconds
// are deleted by the next call, and the key expires two minutes after its last use.

/**
 * Check and count, for one request. ARGV: now_ms, count, then per subject id, rpm, tpm, estimate
 * (0: no such limit). Reply: {refused subject (1-based, 0 = admitted), kind 1 requests | 2
 * tokens, ms until it would fit, the second counted in, then per subject requests, tokens,
 * ms until its requests leave the window, the same for tokens}. Counts in all or in none.
 */
export const RATE_ADMIT_LUA = `
local now = tonumber(ARGV[1]); local count = tonumber(ARGV[2])
local sec = math.floor(now / 1000)
local subjects = {}
for i = 1, count do
  local o = 3 + (i - 1) * 4
  local k = 'ptui:rl:' .. ARGV[o]
  local s = {k = k, rpm = tonumber(ARGV[o + 1]), tpm = tonumber(ARGV[o + 2]), est = tonumber(ARGV[o + 3]), r = {}, t = {}, rs = 0, ts = 0}
  local all = redis.call('HGETALL', k)
  for j = 1, #all, 2 do
    local f = all[j]
    local at = tonumber(string.sub(f, 2))
    local v = tonumber(all[j + 1]) or 0
    if not at or at <= sec - 60 then redis.call('HDEL', k, f)
    elseif string.sub(f, 1, 1) == 'r' then s.r[at] = v; s.rs = s.rs + v
    else s.t[at] = v; s.ts = s.ts + v end
  end
  subjects[i] = s
end
-- ms until at least need units leave the window, oldest second first (each leaves 60 s after it began)
local function freed(b, need)
  local acc = 0
  for at = sec - 59, sec do
    acc = acc + (b[at] or 0)
    if acc >= need then return math.max(1, (at + 60) * 1000 - now) end
  end
  return (sec + 60) * 1000 - now
end
-- ms until nothing counted now is left in the window
local function empty(b)
  for at = sec, sec - 59, -1 do
    if (b[at] or 0) > 0 then return (at + 60) * 1000 - now end
  end
  return 0
end
local refused, kind, wait = 0, 0, 0
for i, s in ipairs(subjects) do
  if refused == 0 and s.rpm > 0 and s.rs + 1 > s.rpm then refused, kind, wait = i, 1, freed(s.r, s.rs + 1 - s.rpm) end
  if refused == 0 and s.tpm > 0 and s.ts + s.est > s.tpm then refused, kind, wait = i, 2, freed(s.t, s.ts + s.est - s.tpm) end
end
if refused == 0 then
  for _, s in ipairs(subjects) do
    if s.rpm > 0 then redis.call('HINCRBY', s.k, 'r' .. sec, 1); s.r[sec] = (s.r[sec] or 0) + 1; s.rs = s.rs + 1 end
    if s.tpm > 0 and s.est > 0 then redis.call('HINCRBY', s.k, 't' .. sec, s.est); s.t[sec] = (s.t[sec] or 0) + s.est; s.ts = s.ts + s.est end
    redis.call('PEXPIRE', s.k, 120000)
  end
end
local out = {refused, kind, wait, sec}
for _, s in ipairs(subjects) do
  out[#out + 1] = s.rs; out[#out + 1] = s.ts; out[#out + 1] = empty(s.r); out[#out + 1] = empty(s.t)
end
return out
`;

/** ARGV: now, then triples subject, second, tokens to add (negative: the estimate was high). */
export const RATE_SETTLE_LUA = `
local sec = math.floor(tonumber(ARGV[1]) / 1000)
for i = 2, #ARGV, 3 do
  local at = tonumber(ARGV[i + 1])
  if at > sec - 60 then
    local k = 'ptui:rl:' .. ARGV[i]
    local f = 't' .. at
    if redis.call('HINCRBY', k, f, tonumber(ARGV[i + 2])) <= 0 then redis.call('HDEL', k, f) end
  end
end
return 1
`;
