-- POST bodies for wrk, used by bench/load.ts.
--   BENCH_BODIES   file with one JSON body per line; requests cycle through them
--   BENCH_HEADERS  optional file with one "Name: value" header per line
--   BENCH_UNIQUE   optional token: each request's first message starts with "<token>-<n> ", so no two are alike
-- done() prints one line "BENCH_JSON {...}" with counts and latency percentiles (µs).

local function lines(path)
  local out = {}
  if path == nil or path == "" then return out end
  local f = assert(io.open(path, "rb"))
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  return out
end

local bodies = lines(os.getenv("BENCH_BODIES"))
assert(#bodies > 0, "BENCH_BODIES must name a file with at least one body")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
for _, h in ipairs(lines(os.getenv("BENCH_HEADERS"))) do
  local name, value = h:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local unique = os.getenv("BENCH_UNIQUE")
if unique ~= nil and unique ~= "" then
  local i = 0
  local n = 0
  request = function()
    i = i % #bodies + 1
    n = n + 1
    local b = bodies[i]:gsub('"content":"', '"content":"' .. unique .. "-" .. n .. " ", 1)
    return wrk.format(nil, nil, nil, b)
  end
elseif #bodies == 1 then
  wrk.body = bodies[1]
else
  local formatted = nil
  local i = 0
  request = function()
    if formatted == nil then
      formatted = {}
      for k, b in ipairs(bodies) do formatted[k] = wrk.format(nil, nil, nil, b) end
    end
    i = i % #formatted + 1
    return formatted[i]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
