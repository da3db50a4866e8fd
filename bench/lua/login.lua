-- POST a login body: wrk <url> -- <organization> <email> <password>
local req

function init(args)
  local body = string.format('{"organization":"%s","email":"%s","password":"%s"}', args[1], args[2], args[3])
  req = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function request()
  return req
end
