-- What the widget posts, for `cargo xtask bench-collector`: each request a new response with a
-- random UUID v4 id, from a new person (TOTAL people over ACCOUNTS accounts), shown on a day
-- spread over a year. Each of wrk's T threads posts its share of TOTAL and stops (wrk itself
-- then waits for its duration or SIGINT, which `cargo xtask bench-collector` sends once the
-- stored count stops growing); the counts of answers by status are printed at the end.
--
-- usage: wrk -t T -c C -d 3h -s widget.lua URL -- TOTAL ACCOUNTS T

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local total, accounts, share, first, sent, answered, started
-- A global: `done` reads each thread's through `thread:get`.
statuses = {}
local hex = "0123456789abcdef"

local function digits(n)
  local out = {}
  for i = 1, n do
    local d = math.random(1, 16)
    out[i] = hex:sub(d, d)
  end
  return table.concat(out)
end

local function uuid_v4()
  -- The variant digit: 8, 9, a or b.
  local v = 9 + math.random(0, 3)
  local variant = hex:sub(v, v)
  return digits(8) .. "-" .. digits(4) .. "-4" .. digits(3) .. "-" .. variant .. digits(3) .. "-" .. digits(12)
end

function init(args)
  total = tonumber(args[1]) or 1200000
  accounts = tonumber(args[2]) or 5000
  local nthreads = tonumber(args[3]) or 1
  share = math.floor(total / nthreads)
  first = (id - 1) * share
  if id == nthreads then share = total - first end
  sent, answered = 0, 0
  started = os.time()
  math.randomseed(os.time() + id * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local segments = { [0] = "detractor", "detractor", "detractor", "detractor", "detractor",
  "detractor", "detractor", "passive", "passive", "promoter", "promoter" }

function request()
  local person = first + sent
  sent = sent + 1
  local score = math.random(0, 10)
  local day = os.date("!%Y-%m-%d", started - math.random(0, 364) * 86400)
  local body = string.format(
    '{"schema":1,"id":"%s","survey_id":"default","score":%d,"segment":"%s",'
      .. '"state":"complete","user":{"id":"p%d","account_id":"acct%d"},'
      .. '"context":{"url":"https://app.example/","locale":"en"},'
      .. '"shown_at":"%sT10:00:00.000Z","answered_at":"%sT10:00:04.000Z",'
      .. '"completed_at":"%sT10:00:09.000Z"}',
    uuid_v4(), score, segments[score], person, person % accounts, day, day, day)
  return wrk.format(nil, "/v1/responses", nil, body)
end

function response(status)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if answered >= share then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format("%d: %d", status, n))
  end
  table.sort(parts)
  io.write(string.format("answers by status: %s\n", table.concat(parts, ", ")))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
