-- wrk script of scenario S3 (the WAF): the plain GET of S1 with the headers
-- given as arguments, one "Name: value" each, e.g.
--
--   wrk -s bench/s3.lua http://127.0.0.1:18080/ -- "Host: localhost" "User-Agent: bench" "Accept: */*"
--
-- A real client sends a host name, a user agent and Accept; wrk alone sends
-- Host: 127.0.0.1:PORT, which the CRS scores on every request (rule 920350,
-- Host is a numeric IP). The headers are set once per thread, before wrk
-- formats its request, so the request is built once and the load core pays
-- nothing per request for the script.

function init(args)
	for _, h in ipairs(args) do
		local name, value = h:match("^([^:]+):%s*(.*)$")
		if not name then
			error("bench/s3.lua: header argument " .. h .. " is not \"Name: value\"")
		end
		wrk.headers[name] = value
	end
end
