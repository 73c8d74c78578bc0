-- POST survey saves, final submits or baseline inserts, one fresh invitation token per request.
-- Environment: BENCH_MODE (save | submit | insert), BENCH_TOKENS (file, a line per fellow: the link
-- token and the CSRF token its page carries), BENCH_BODY (urlencoded form without either),
-- BENCH_COOKIE (cookies the page set, if any).
-- Each thread takes every n-th token, so no token is used twice in a run; done() prints one
-- JSON line with the status counts summed over threads, for the rows-stored check.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

function init(args)
   mode = os.getenv("BENCH_MODE") or "save"
   body = os.getenv("BENCH_BODY") or ""
   nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
   tokens, csrfs = {}, {}
   for line in io.lines(os.getenv("BENCH_TOKENS")) do
      local token, csrf = line:match("^(%S+)%s+(%S+)$")
      if token then
         table.insert(tokens, token)
         table.insert(csrfs, csrf)
      end
   end
   index = id
   sent, c2xx, c3xx, c4xx, c5xx, exhausted = 0, 0, 0, 0, 0, 0
   headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
   local cookie = os.getenv("BENCH_COOKIE")
   if cookie and cookie ~= "" then headers["Cookie"] = cookie end
end

function request()
   local token = tokens[index]
   if token == nil and mode == "insert" then
      -- The baseline has no unique token to protect: start the list again rather than stop.
      index = id
      token = tokens[index]
   end
   local csrf = csrfs[index]
   if token == nil then
      -- Pool used up: ask for a page that does not exist so the overrun is visible, never a repeat.
      exhausted = exhausted + 1
      return wrk.format("GET", "/bench-pool-exhausted")
   end
   index = index + nthreads
   sent = sent + 1
   local path
   if mode == "save" then
      path = "/s/" .. token .. "/1"
   elseif mode == "submit" then
      path = "/s/" .. token .. "/submit"
   else
      path = "/insert"
   end
   return wrk.format("POST", path, headers, body .. "&token=" .. token .. "&csrf_token=" .. csrf)
end

function response(status, headers, body)
   if status < 300 then c2xx = c2xx + 1
   elseif status < 400 then c3xx = c3xx + 1
   elseif status < 500 then c4xx = c4xx + 1
   else c5xx = c5xx + 1 end
end

function done(summary, latency, requests)
   local t = {sent = 0, c2xx = 0, c3xx = 0, c4xx = 0, c5xx = 0, exhausted = 0}
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
   end
   io.write(string.format(
      'BENCH_COUNTS {"sent": %d, "c2xx": %d, "c3xx": %d, "c4xx": %d, "c5xx": %d, "exhausted": %d}\n',
      t.sent, t.c2xx, t.c3xx, t.c4xx, t.c5xx, t.exhausted))
end
