-- A paced latency probe: each connection waits 10 ms between requests, so the probe measures
-- how long the server makes a request wait (a blocked event loop) without taking the CPU itself.
local req

function init(args)
  req = wrk.format()
end

function request()
  return req
end

function delay()
  return 10
end
