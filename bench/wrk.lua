-- wrk's script for bench/load.py: a fixed request, or a new comment per request for our API or Isso's.
-- Everything comes from BENCH_* variables; `done` prints one JSON line that load.py reads.
local mode = os.getenv("BENCH_MODE") or "fixed"

if mode == "fixed" then
  wrk.method = os.getenv("BENCH_METHOD") or "GET"
  local body = os.getenv("BENCH_BODY")
  if body and body ~= "" then wrk.body = body end
end

local articles, texts = {}, {}
for article in string.gmatch(os.getenv("BENCH_ARTICLES") or "", "[^,]+") do
  articles[#articles + 1] = article
end
local file = io.open(os.getenv("BENCH_TEXTS") or "", "r")
if file then
  -- One comment text a line, already escaped for a JSON string.
  for line in file:lines() do texts[#texts + 1] = line end
  file:close()
end
local nonce = os.getenv("BENCH_NONCE") or "0"
local site = os.getenv("BENCH_SITE") or ""
local token = os.getenv("BENCH_FORM_TOKEN") or ""
local origin = os.getenv("BENCH_ORIGIN") or ""
local counter = 0
local threads = 0

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

setup = function(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

if mode ~= "fixed" then
  request = function()
    counter = counter + 1
    local n = counter
    local who = n % 500
    local article = articles[(n % #articles) + 1]
    -- Unique per request, so the spam filter's duplicate rule sees new text as a reader would write.
    local text = texts[(n % #texts) + 1] .. " (" .. nonce .. "-" .. tostring(thread_id) .. "-" .. n .. ")"
    local name = "Reader " .. who
    local email = "reader" .. who .. "@mail.example"
    if mode == "post-ours" then
      local body = '{"site":"' .. site .. '","article":"' .. article .. '","author":{"name":"' .. name ..
        '","email":"' .. email .. '"},"text":"' .. text .. '","form_token":"' .. token .. '"}'
      return wrk.format("POST", "/api/v1/comments", {
        ["Content-Type"] = "application/json", ["Origin"] = origin,
        ["X-Comments-Reader"] = string.format("benchreader%05d-%d", who, thread_id or 0),
      }, body)
    end
    local body = '{"text":"' .. text .. '","author":"' .. name .. '","email":"' .. email ..
      '","title":"Bench article"}'
    return wrk.format("POST", "/new?uri=" .. encode(article), {
      ["Content-Type"] = "application/json", ["Origin"] = origin,
    }, body)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local f = math.floor
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, ' ..
    '"p90": %d, "p99": %d, "max": %d, "mean": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, f(latency:percentile(50)), f(latency:percentile(90)), f(latency:percentile(99)),
    f(latency.max), f(latency.mean)))
end
