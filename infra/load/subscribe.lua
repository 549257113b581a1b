-- wrk script: every request subscribes a new address (thread and counter make it unique),
-- as a form POST; counts the accepted answers (200) per thread for the final report.
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  accepted = 0
  refused = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  local body = "email=last" .. id .. "-" .. counter .. "%40example.nl&first_name=Last"
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local total_accepted, total_refused = 0, 0
  for _, thread in ipairs(threads) do
    total_accepted = total_accepted + thread:get("accepted")
    total_refused = total_refused + thread:get("refused")
  end
  io.write(string.format("requests/s %.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50 %.2f ms\np99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("errors %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("accepted %d\nrefused %d\n", total_accepted, total_refused))
end
