-- Random HLS segments: wrk <base url> -- <bearer token or ""> <query or ""> <path> [<path> ...]
-- Each request picks one of the paths (each with the query appended, e.g. "?token=...").
local paths = {}
local headers = {}

function init(args)
  if args[1] ~= "" then
    headers["Authorization"] = "Bearer " .. args[1]
  end
  for i = 3, #args do
    paths[#paths + 1] = args[i] .. args[2]
  end
  -- Threads share the script but not the generator: seed each differently.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
