-- wrk script for bench/webhooks.py: replays pre-signed Zoom deliveries from a file, each thread its own
-- share of the lines, so every request is a distinct event (until a thread runs out and starts over,
-- which done() reports as "wraps").
--   wrk -t2 -c32 -d10s -s bench/replay.lua http://127.0.0.1:PORT -- REQUESTS_FILE THREADS
-- File: first line the x-zm-request-timestamp shared by all, then one "<x-zm-signature> <body>" a line.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local path, count = args[1], tonumber(args[2])
   local file = assert(io.open(path, "rb"))
   local timestamp = file:read("*l")
   requests = {}
   local line_number = 0
   for line in file:lines() do
      if line_number % count == id then
         local signature, body = line:match("^(%S+) (.*)$")
         requests[#requests + 1] = wrk.format("POST", "/zoom/webhook",
            {["Content-Type"] = "application/json", ["x-zm-request-timestamp"] = timestamp,
             ["x-zm-signature"] = signature}, body)
      end
      line_number = line_number + 1
   end
   file:close()
   position, non2xx, wraps = 0, 0, 0
end

function request()
   position = position + 1
   if position > #requests then
      position, wraps = 1, wraps + 1
   end
   return requests[position]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local bad, wrapped = 0, 0
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("non2xx")
      wrapped = wrapped + thread:get("wraps")
   end
   local e = summary.errors
   io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d wraps=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
      e.connect + e.read + e.write + e.timeout, wrapped))
end
