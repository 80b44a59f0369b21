-- wrk script of bench:asap (bench/lib/load.ts): POSTs WRK_BODY with the headers of WRK_HEADERS
-- ("name: value" lines). With WRK_UNIQUE=1 every request gets its own body: each "@@N@@" in
-- WRK_BODY becomes WRK_PREFIX (unique per run of wrk) and a counter. Prints one JSON line when done.
local body = os.getenv("WRK_BODY")
local unique = os.getenv("WRK_UNIQUE") == "1"
wrk.method = "POST"
wrk.body = body
for line in string.gmatch(os.getenv("WRK_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local counter = 0
local prefix = os.getenv("WRK_PREFIX") or "wrk"
if unique then
  request = function()
    counter = counter + 1
    local id = prefix .. "-" .. counter
    return wrk.format(nil, nil, nil, (string.gsub(body, "@@N@@", id)))
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
