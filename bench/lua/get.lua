-- GET the URL, with a bearer token when one is given: wrk <url> -- [token]
local req

function init(args)
  if args[1] and args[1] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[1]
  end
  -- Formatted once per thread; request() below only hands it out again.
  req = wrk.format()
end

function request()
  return req
end
