-- wrk script of scenario S2: each request carries one of the benchmark's API
-- keys, in turn, and a browser Origin.
--
--   wrk -s bench/s2.lua http://127.0.0.1:18080/ -- KEYFILE [ORIGIN]
--
-- KEYFILE has one key a line (the third field of bench/keygen's output, or
-- the whole line when it has one field). ORIGIN defaults to
-- https://app.example.com. The requests are formatted once per thread in
-- init, so per request wrk only picks the next one: the Lua cost on the load
-- core stays small and S2 measures the gateway, not this script.

local threads = 0

function setup(thread)
   thread:set("tid", threads)
   threads = threads + 1
end

local reqs, n, i = {}, 0, 0

function init(args)
   local file, origin = args[1], args[2] or "https://app.example.com"
   if not file then
      error("s2.lua: usage: wrk -s s2.lua URL -- KEYFILE [ORIGIN]")
   end
   local f = assert(io.open(file, "r"))
   for line in f:lines() do
      local fields = {}
      for w in line:gmatch("%S+") do fields[#fields + 1] = w end
      local key = fields[3] or fields[1]
      if key then
         n = n + 1
         reqs[n] = wrk.format("GET", wrk.path, {
            ["Host"] = wrk.headers["Host"],
            ["X-API-Key"] = key,
            ["Origin"] = origin,
         })
      end
   end
   f:close()
   if n == 0 then
      error("s2.lua: no keys in " .. file)
   end
   -- Threads start at different keys, so they do not send the same key in step.
   i = ((tid or 0) * 37) % n
end

function request()
   i = i % n + 1
   return reqs[i]
end
