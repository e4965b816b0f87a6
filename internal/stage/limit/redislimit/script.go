package redislimit

import "github.com/redis/go-redis/v9"

// decide checks and charges every rate limit and quota of one request
// stored in Redis, atomically (a script runs alone on the server): it
// reads every key, and only when every enforced limit and quota fits
// charges each rate limit that fits and counts the request in each quota.
// A refused request changes nothing.
//
// Time is the gateway's (ARGV[1]), not Redis TIME: the local fallback and
// the quota periods run on the same clock, so a node that falls back to
// its local store during an outage, and returns, stays on one timeline;
// and tests drive all of it with a virtual clock. The price is that nodes
// must keep their clocks in sync (NTP): a node whose clock runs Δ ahead
// finds Δ × rate more requests refilled, once. It is in microseconds since
// the Unix epoch: Lua numbers are doubles, exact for integers up to 2^53,
// which microseconds stay below until the year 2255; nanoseconds would
// not fit.
//
//	KEYS    the rate limits' keys, then the quotas' keys
//	ARGV[1] now (µs)
//	ARGV[2] n, the number of rate limits
//	then per rate limit: interval (µs), burst, enforce (1 or 0)
//	then per quota:      limit, ttl (ms, to the period's end plus slack), enforce
//
// It returns {admitted, then per rate limit: fits, TAT - now (µs), then
// per quota: fits, count} with TAT and count as they are after the
// decision.
//
// A rate limit key holds its TAT and expires when the TAT passes (an
// absent key and a passed TAT mean the same: the whole burst is free). A
// quota key holds its count and expires after its period.
var decide = redis.NewScript(scriptRead + scriptCharge + scriptAnswer)

// peek is decide without the writes, for simulated requests: the same
// arguments and the same answer (TATs and counts as decide would leave
// them), but no key is set, incremented or expired.
var peek = redis.NewScript(scriptRead + scriptPeek + scriptAnswer)

// The parts of decide and peek. scriptRead reads every key and decides
// whether the request is admitted.
const scriptRead = `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local admitted = true
local tats, fits, counts = {}, {}, {}
local a = 3
for i = 1, n do
  local interval, burst = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  fits[i] = tat + interval - burst * interval <= now
  if not fits[i] and ARGV[a + 2] == '1' then admitted = false end
  tats[i] = tat
  a = a + 3
end
for j = n + 1, #KEYS do
  counts[j] = tonumber(redis.call('GET', KEYS[j])) or 0
  fits[j] = counts[j] < tonumber(ARGV[a])
  if not fits[j] and ARGV[a + 2] == '1' then admitted = false end
  a = a + 3
end
`

// scriptCharge charges an admitted request: each fitting rate limit's TAT
// advances (with its expiry), each quota's count goes up.
const scriptCharge = `if admitted then
  a = 3
  for i = 1, n do
    if fits[i] then
      tats[i] = tats[i] + tonumber(ARGV[a])
      redis.call('SET', KEYS[i], string.format('%d', tats[i]),
        'PX', string.format('%d', math.ceil((tats[i] - now) / 1000) + 1))
    end
    a = a + 3
  end
  for j = n + 1, #KEYS do
    counts[j] = redis.call('INCRBY', KEYS[j], 1)
    redis.call('PEXPIRE', KEYS[j], ARGV[a + 1])
    a = a + 3
  end
end
`

// scriptPeek computes what scriptCharge would leave, writing nothing.
const scriptPeek = `if admitted then
  a = 3
  for i = 1, n do
    if fits[i] then tats[i] = tats[i] + tonumber(ARGV[a]) end
    a = a + 3
  end
  for j = n + 1, #KEYS do counts[j] = counts[j] + 1 end
end
`

// scriptAnswer returns {admitted, per rate limit: fits, TAT - now, per
// quota: fits, count}.
const scriptAnswer = `local out = {admitted and 1 or 0}
for i = 1, n do
  out[#out + 1] = fits[i] and 1 or 0
  out[#out + 1] = tats[i] - now
end
for j = n + 1, #KEYS do
  out[#out + 1] = fits[j] and 1 or 0
  out[#out + 1] = counts[j]
end
return out
`
