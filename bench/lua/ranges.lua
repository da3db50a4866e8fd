-- Random 1 MiB byte ranges of a file of known size: wrk <url> -- <token or ""> <size in bytes>
local MIB = 1024 * 1024
local size = 0
local headers = {}

function init(args)
  if args[1] and args[1] ~= "" then
    headers["Authorization"] = "Bearer " .. args[1]
  end
  size = tonumber(args[2])
  -- Threads share the script but not the generator: seed each differently.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
  local start = math.random(0, size - MIB)
  headers["Range"] = string.format("bytes=%d-%d", start, start + MIB - 1)
  return wrk.format("GET", nil, headers)
end
