#!/usr/bin/env bash
# Pinpoint load benchmark: Pinpoint against a direct connection, a bare Go
# ReverseProxy, nginx and Caddy, all on 127.0.0.1; and Pinpoint's WAF against
# nginx + ModSecurity and a stock Coraza proxy. See bench/README.md.
#
#   bench/run.sh                                # about 8 minutes
#   DURATION=10s CONNS=64 THREADS=2 bench/run.sh
#   S2=0 bench/run.sh                           # without scenario S2
#   S3=0 bench/run.sh                           # without scenario S3 (the WAF)
#   S3_PROFILE=1 bench/run.sh                   # also a CPU profile of Pinpoint under S3
#
# Results (raw wrk/loadgen output, logs, table.md) go to bench/results/<UTC time>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-25s}     # each measurement
WARMUP=${WARMUP:-2s}          # unmeasured load before each measurement
CONNS=${CONNS:-64}            # concurrent keep-alive connections of the load
THREADS=${THREADS:-2}         # wrk threads
PINPOINT_BIN=${PINPOINT_BIN:-} # a prebuilt gateway to measure instead of building ./cmd/pinpoint
S2=${S2:-1}                   # 0 skips S2 (API keys of 100 consumers, authorize, ip, cors)
S2_KEYS=100                   # consumers in S2, one key each
S2_ORIGIN=https://app.example.com
S3=${S3:-1}                   # 0 skips S3 (OWASP CRS at paranoia 1, blocking: Pinpoint, nginx + ModSecurity, Coraza)
S3_PROFILE=${S3_PROFILE:-0}   # 1 fetches a CPU profile of Pinpoint during its S3 measurement
# S3's request: a host name, a user agent and Accept, as any real client sends.
# Without them every request would match CRS rule 920350 (Host is a numeric IP,
# paranoia 1) and S3 would measure rule-match logging instead of a clean GET.
S3_LUA=bench/s3.lua
# The attack that proves each S3 target blocks: a classic SQL injection in
# the query (CRS 942100 and friends), sent with S3's headers.
S3_ATTACK="/?id=1%27%20OR%20%271%27%3D%271"
# Debian's ModSecurity v3 connector, its recommended engine config and CRS 3.3.
MODSEC_MODULE=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so
MODSEC_CONF=/etc/nginx/modsecurity.conf
MODSEC_CRS_SETUP=/etc/modsecurity/crs/crs-setup.conf
MODSEC_CRS_RULES=/usr/share/modsecurity-crs/rules

BIN=bench/.bin
OUT=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d -t pinpoint-bench.XXXXXX) # configs and data dirs, removed on exit
mkdir -p "$BIN" "$OUT/raw" "$OUT/logs"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- processes
# shellcheck source=bench/lib.sh
source bench/lib.sh

cleanup() {
	stop_all
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
as_root() {
	if [[ $(id -u) == 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		return 1
	fi
}

APT_UPDATED=0
apt_update_once() {
	((APT_UPDATED)) && return 0
	APT_UPDATED=1
	log "apt-get update"
	as_root apt-get update >>"$OUT/logs/apt.log" 2>&1
}

# packaged NAME: true when Debian has a candidate version of NAME. Not grep -q:
# it would exit at the match, apt-cache would die of SIGPIPE, and pipefail
# would make the answer false.
packaged() { apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null; }

apt_install() {
	log "apt-get install -y $*"
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y "$@" >>"$OUT/logs/apt.log" 2>&1
}

install_tools() {
	local need=()
	command -v wrk >/dev/null || need+=(wrk)
	command -v curl >/dev/null || need+=(curl)
	if ((${#need[@]})); then
		if ! { apt_update_once && apt_install "${need[@]}"; }; then
			log "cannot install ${need[*]} (see $OUT/logs/apt.log); wrk and curl are required"
			exit 1
		fi
	fi
	if ! command -v nginx >/dev/null; then
		apt_update_once || true
		if packaged nginx-light; then
			apt_install nginx-light || log "nginx-light did not install; nginx row skipped"
		elif packaged nginx; then
			apt_install nginx || log "nginx did not install; nginx row skipped"
		else
			log "nginx is not packaged here; nginx row skipped"
		fi
	fi
	if ! command -v caddy >/dev/null; then
		apt_update_once || true
		if packaged caddy; then
			apt_install caddy || log "caddy did not install; caddy row skipped"
		else
			log "caddy is not packaged here; caddy row skipped"
		fi
	fi
	if [[ $S3 != 0 ]] && ! modsec_installed; then
		apt_update_once || true
		if packaged libnginx-mod-http-modsecurity && packaged modsecurity-crs; then
			apt_install libnginx-mod-http-modsecurity modsecurity-crs ||
				log "ModSecurity did not install; nginx + ModSecurity row skipped"
		else
			log "ModSecurity for nginx or CRS is not packaged here; nginx + ModSecurity row skipped"
		fi
	fi
}

# modsec_installed: nginx, Debian's ModSecurity module and its CRS are all there.
modsec_installed() {
	command -v nginx >/dev/null && [[ -f $MODSEC_MODULE && -f $MODSEC_CONF && -f $MODSEC_CRS_SETUP && -d $MODSEC_CRS_RULES ]]
}

# ---------------------------------------------------------------- CPU placement
# Proxies under test get CPU 0 to themselves; the backend and the load
# generators share CPU 1. Go programs get GOMAXPROCS=1 to match.
pin_cpus || log "WARNING: fewer than 2 CPUs or no taskset: running unpinned; numbers are not comparable to pinned runs"
check_load

# ---------------------------------------------------------------- helpers

# wait_ok URL PID [CURL ARGS...]: waits up to 30s for URL to answer 200,
# failing early if PID exits.
wait_ok() {
	local url=$1 pid=$2 i
	shift 2
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		[[ $(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 1 "$@" "$url" || true) == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}

# Per scenario: wrk results, CPU use, and why a row was skipped.
declare -A RPS P50 P99 ERRS CPU0 CPU1 NOTE
# Per constant-rate run: LG[NAME.key] from loadgen's output, plus NAME.cpu1.
declare -A LG

# ON_MEASURE[NAME]: a command measure runs once NAME's warm-up is over, just
# before its measurement starts (S3_PROFILE starts the profiler this way).
declare -A ON_MEASURE

# measure NAME URL [SCRIPT ARGS...]: warms up URL, then measures it with wrk
# into raw/wrk-NAME.txt; with SCRIPT, wrk runs that Lua script with ARGS.
measure() {
	local name=$1 url=$2 f=$OUT/raw/wrk-$1.txt c0 c1 target
	shift 2
	target=("$url")
	if (($#)); then target=(-s "$1" "$url" -- "${@:2}"); fi
	log "$name: warm-up $WARMUP, then wrk -t$THREADS -c$CONNS -d$DURATION${1:+ -s $1} $url"
	if ! run_fg "${ON_LOAD_CPU[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${target[@]}" >"$f" 2>&1; then
		NOTE[$name]="wrk failed (see raw/wrk-$name.txt)"
		log "$name: ${NOTE[$name]}"
		return 0
	fi
	if [[ -n ${ON_MEASURE[$name]:-} ]]; then ${ON_MEASURE[$name]}; fi
	c0=$(cpu_ticks 0)
	c1=$(cpu_ticks 1)
	if ! run_fg "${ON_LOAD_CPU[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${target[@]}" >"$f" 2>&1; then
		NOTE[$name]="wrk failed (see raw/wrk-$name.txt)"
		log "$name: ${NOTE[$name]}"
		return 0
	fi
	CPU0[$name]=$(busy "$c0" "$(cpu_ticks 0)")
	CPU1[$name]=$(busy "$c1" "$(cpu_ticks 1)")
	read -r "RPS[$name]" "P50[$name]" "P99[$name]" "ERRS[$name]" < <(awk '
		function ms(v, n, u) {
			n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
			if (u == "us") return n / 1000
			if (u == "s") return n * 1000
			if (u == "m") return n * 60000
			if (u == "h") return n * 3600000
			return n
		}
		/^ +50% / { p50 = ms($2) }
		/^ +99% / { p99 = ms($2) }
		/^Requests\/sec:/ { rps = $2 }
		/Non-2xx or 3xx responses:/ { errs += $NF }
		/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
		END { printf "%s %s %s %d\n", rps + 0, p50 + 0, p99 + 0, errs }' "$f")
	log "$name: ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p99 ${P99[$name]} ms, errors ${ERRS[$name]}, CPU proxy ${CPU0[$name]}% load ${CPU1[$name]}%"
}

# RATE is the constant load of the latency comparison: half of Pinpoint's
# maximum, or of the bare proxy's when Pinpoint did not run.
RATE=

# loadgen NAME URL: constant-rate latency run at RATE into raw/loadgen-NAME.txt.
loadgen() {
	local name=$1 url=$2 f=$OUT/raw/loadgen-$1.txt c1 k v
	[[ -n $RATE ]] || return 0
	log "$name: loadgen at $RATE req/s for $DURATION ($url)"
	c1=$(cpu_ticks 1)
	if ! GOMAXPROCS=1 run_fg "${ON_LOAD_CPU[@]}" "$BIN/loadgen" -url "$url" -rate "$RATE" -duration "$DURATION" \
		-conns "$CONNS" -warmup "$WARMUP" >"$f" 2>&1; then
		LG[$name.note]="loadgen failed (see raw/loadgen-$name.txt)"
		log "$name: ${LG[$name.note]}"
		return 0
	fi
	LG[$name.cpu1]=$(busy "$c1" "$(cpu_ticks 1)")
	while read -r k v; do LG[$name.$k]=$v; done <"$f"
	log "$name: achieved ${LG[$name.achieved_rps]} req/s, p50 ${LG[$name.p50_ms]} ms, p99 ${LG[$name.p99_ms]} ms, load CPU ${LG[$name.cpu1]}%"
}

# set_rate NAME: sets RATE to half of NAME's measured maximum, if not yet set.
set_rate() {
	[[ -z $RATE && -n ${RPS[$1]:-} ]] || return 0
	RATE=$(awk -v r="${RPS[$1]}" 'BEGIN { printf "%d", r / 2 }')
	((RATE > 0)) || RATE=
}

# ---------------------------------------------------------------- build
install_tools

if [[ $S3 != 0 ]]; then log "building backend, bareproxy, loadgen, keygen, corazaproxy"; else log "building backend, bareproxy, loadgen, keygen"; fi
go build -o "$BIN/backend" ./bench/backend
go build -o "$BIN/bareproxy" ./bench/bareproxy
go build -o "$BIN/loadgen" ./bench/loadgen
go build -o "$BIN/keygen" ./bench/keygen
if [[ $S3 != 0 ]]; then go build -o "$BIN/corazaproxy" ./bench/corazaproxy; fi
PINPOINT=$BIN/pinpoint
if [[ -n $PINPOINT_BIN ]]; then
	PINPOINT=$PINPOINT_BIN
	log "using prebuilt gateway $PINPOINT"
else
	log "building pinpoint"
	if ! go build -o "$PINPOINT" ./cmd/pinpoint >"$OUT/logs/build-pinpoint.log" 2>&1; then
		PINPOINT=
		log "pinpoint does not build (see $OUT/logs/build-pinpoint.log); its rows are skipped"
		NOTE[S1]="gateway did not build"
		NOTE[S1L]="gateway did not build"
		NOTE[S2]="gateway did not build"
		NOTE[S3]="gateway did not build"
	fi
fi
if [[ $S2 == 0 ]]; then NOTE[S2]="S2=0"; fi
if [[ $S3 == 0 ]]; then NOTE[S3]="S3=0" NOTE[S3modsec]="S3=0" NOTE[S3coraza]="S3=0"; fi
# The rule sets S3 compares: the CRS the gateway and corazaproxy embed, and
# the one Debian packages for ModSecurity.
CORAZA_VERSION=$(go list -m -f '{{.Version}}' github.com/corazawaf/coraza/v3 2>/dev/null || echo unknown)
CRS_VERSION=$(go list -m -f '{{.Version}}' github.com/corazawaf/coraza-coreruleset/v4 2>/dev/null || echo unknown)
MODSEC_CRS_VERSION=$(dpkg-query -W -f '${Version}' modsecurity-crs 2>/dev/null || echo "not installed")

{
	echo "date: $(date -u +%FT%TZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
	echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) x $(nproc)"
	echo "kernel: $(uname -sr)"
	echo "go: $(go env GOVERSION)"
	echo "wrk: $(wrk -v 2>&1 | head -1 || true)"
	if command -v nginx >/dev/null; then echo "nginx: $(nginx -v 2>&1)"; fi
	if command -v caddy >/dev/null; then echo "caddy: $(caddy version 2>&1 | head -1)"; fi
	if [[ $S3 != 0 ]]; then
		echo "coraza (pinpoint, corazaproxy): $CORAZA_VERSION, CRS $CRS_VERSION"
		if modsec_installed; then
			echo "modsecurity (nginx): $(dpkg-query -W -f '${Package} ${Version}, ' libmodsecurity3 libnginx-mod-http-modsecurity 2>/dev/null)CRS $MODSEC_CRS_VERSION"
		fi
	fi
	if [[ -n $PINPOINT ]]; then echo "pinpoint: $PINPOINT"; fi
	echo "load average before: $LOAD_BEFORE"
	echo "DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS THREADS=$THREADS S2=$S2 S3=$S3 pinned=$PINNED"
} >"$OUT/environment.txt"

# ---------------------------------------------------------------- backend (S0)
BACKEND_PORT=$(pick_port 18081)
BACKEND=http://127.0.0.1:$BACKEND_PORT/
GOMAXPROCS=1 start backend "${ON_LOAD_CPU[@]}" "$BIN/backend" -listen "127.0.0.1:$BACKEND_PORT"
if ! wait_ok "$BACKEND" "$STARTED"; then
	log "backend did not start (see $OUT/logs/backend.log)"
	exit 1
fi
measure S0 "$BACKEND"

# ---------------------------------------------------------------- pinpoint (S1, S1L, S2, S3)
# pinpoint_config CALL_LOG PORT ADMIN_PORT [KEYS] [WAF]: the benchmark's
# gateway config. With KEYS (bench/keygen output: id, sha256, key a line) the
# route is S2's: API-key auth over one consumer a line, each key with scope
# orders:read, authorize, an ip allow list and cors. Only the ids and hashes
# go into the config. With WAF non-empty the route is S3's: the WAF (CRS v4)
# at paranoia level 1 with the inbound anomaly threshold 5, enforcing, and no
# error log.
pinpoint_config() {
	local keys=${4:-} waf=${5:-} id sum n=0
	cat <<EOF
version: 1
gateway:
  call_log:
    enabled: $1
listeners:
  - name: public
    kind: proxy
    address: "127.0.0.1:$2"
  - name: admin
    kind: admin
    address: "127.0.0.1:$3"
routes:
  - name: bench
    paths: ["/*"]
    upstream: backend
EOF
	if [[ -n $waf ]]; then
		cat <<EOF
    waf:
      enabled: true
EOF
	fi
	if [[ -n $keys ]]; then
		cat <<EOF
    auth:
      methods: [bench-keys]
    authorize:
      scopes: [orders:read]
    ip:
      allow: ["127.0.0.0/8", "::1"]
    cors:
      allow_origins: ["$S2_ORIGIN"]
authenticators:
  - name: bench-keys
    type: api_key
consumers:
EOF
		while read -r id sum _; do
			n=$((n + 1))
			printf '  - id: bench-%03d\n    api_keys:\n      - id: %s\n        sha256: %s\n        scopes: [orders:read]\n' \
				"$n" "$id" "$sum"
		done <"$keys"
	fi
	if [[ -n $waf ]]; then
		cat <<EOF
waf:
  mode: enforce
  paranoia_level: 1
  inbound_anomaly_threshold: 5
EOF
	fi
	cat <<EOF
upstreams:
  - name: backend
    targets:
      - url: "http://127.0.0.1:$BACKEND_PORT"
    pool:
      max_idle_per_target: $CONNS
EOF
}

# s2_keys DIR: makes S2's keys with bench/keygen: DIR/keys (S2_KEYS lines of
# id, sha256 and key), DIR/key-header (curl headers with the first key and
# the Origin, for the readiness check) and DIR/wrong-key-header (the first
# key's id with a secret that is not its own). The keys stay in the temporary
# directory; results get only their ids and hashes.
s2_keys() {
	local d=$1 id sum key extra
	(
		umask 077
		"$BIN/keygen" -n "$((S2_KEYS + 1))" >"$d/all-keys"
		head -n "$S2_KEYS" "$d/all-keys" >"$d/keys"
		read -r id sum key <"$d/keys"
		read -r _ _ extra < <(tail -n 1 "$d/all-keys")
		printf 'X-API-Key: %s\nOrigin: %s\n' "$key" "$S2_ORIGIN" >"$d/key-header"
		printf 'X-API-Key: %s_%s\nOrigin: %s\n' "${key%_*}" "${extra##*_}" "$S2_ORIGIN" >"$d/wrong-key-header"
	)
}

# s2_checks NAME PORT: shows that S2's route really runs its stages (a fast
# S2 that skipped auth would mean nothing): the answers with a key, without
# one, with a wrong secret and to a preflight, into logs/NAME-checks.txt and
# CHECK[...]. Only status codes and the CORS header are kept.
declare -A CHECK
s2_checks() {
	local name=$1 url=http://127.0.0.1:$2/ d=$WORK/$1
	local c=(curl -s -o /dev/null --noproxy '*' --max-time 5)
	CHECK[key]=$("${c[@]}" -w '%{http_code}' -H @"$d/key-header" "$url" || true)
	CHECK[acao]=$("${c[@]}" -D - -H @"$d/key-header" "$url" |
		awk 'tolower($1) == "access-control-allow-origin:" { sub(/\r$/, "", $2); print $2 }' || true)
	CHECK[nokey]=$("${c[@]}" -w '%{http_code}' -H "Origin: $S2_ORIGIN" "$url" || true)
	CHECK[wrong]=$("${c[@]}" -w '%{http_code}' -H @"$d/wrong-key-header" "$url" || true)
	CHECK[preflight]=$("${c[@]}" -w '%{http_code}' -X OPTIONS -H "Origin: $S2_ORIGIN" \
		-H 'Access-Control-Request-Method: GET' -H 'Access-Control-Request-Headers: X-API-Key' "$url" || true)
	{
		echo "GET / with a key and Origin: ${CHECK[key]}, Access-Control-Allow-Origin: ${CHECK[acao]:-(none)}"
		echo "GET / without a key: ${CHECK[nokey]}"
		echo "GET / with a configured key id and a wrong secret: ${CHECK[wrong]}"
		echo "OPTIONS / preflight from $S2_ORIGIN: ${CHECK[preflight]}"
	} >"$OUT/logs/$name-checks.txt"
	log "$name: checks: with key ${CHECK[key]} (Access-Control-Allow-Origin ${CHECK[acao]:-none}), no key ${CHECK[nokey]}, wrong secret ${CHECK[wrong]}, preflight ${CHECK[preflight]}"
}

# S3_HEADERS: the headers of every S3 request, for curl (-H each) and for
# bench/s3.lua (its arguments). See S3_LUA above.
S3_HEADERS=("Host: localhost" "User-Agent: pinpoint-bench/S3" "Accept: */*")

# s3_checks NAME URL: shows that NAME's WAF is on and blocking before it is
# measured (a fast WAF that let attacks through would mean nothing): S3's
# plain GET must answer 200 and S3_ATTACK 403. The answers go to
# logs/NAME-checks.txt and S3CHECK[NAME.plain|attack|code]; returns non-zero
# when the WAF does not block.
declare -A S3CHECK
s3_checks() {
	local name=$1 url=${2%/} h c=(curl -s -o /dev/null --noproxy '*' --max-time 5)
	for h in "${S3_HEADERS[@]}"; do c+=(-H "$h"); done
	S3CHECK[$name.plain]=$("${c[@]}" -w '%{http_code}' "$url/" || true)
	S3CHECK[$name.attack]=$("${c[@]}" -w '%{http_code}' "$url$S3_ATTACK" || true)
	# Pinpoint names the layer that refused; the others send no such header.
	S3CHECK[$name.code]=$("${c[@]}" -D - "$url$S3_ATTACK" |
		awk 'tolower($1) == "pinpoint-code:" { sub(/\r$/, "", $2); print $2 }' || true)
	{
		echo "GET / with S3's headers: ${S3CHECK[$name.plain]}"
		echo "GET $S3_ATTACK (SQL injection): ${S3CHECK[$name.attack]}${S3CHECK[$name.code]:+, Pinpoint-Code ${S3CHECK[$name.code]}}"
	} >"$OUT/logs/$name-checks.txt"
	log "$name: checks: plain GET ${S3CHECK[$name.plain]}, SQL injection ${S3CHECK[$name.attack]}${S3CHECK[$name.code]:+ (${S3CHECK[$name.code]})}"
	[[ ${S3CHECK[$name.plain]} == 200 && ${S3CHECK[$name.attack]} == 403 ]]
}

# s3_measure NAME URL: s3_checks, then the measurement with S3's headers; a
# target that fails the checks is not measured.
s3_measure() {
	if s3_checks "$1" "$2"; then
		measure "$1" "$2" "$S3_LUA" "${S3_HEADERS[@]}"
	else
		NOTE[$1]="WAF not blocking: plain GET ${S3CHECK[$1.plain]}, attack ${S3CHECK[$1.attack]} (see logs/$1-checks.txt)"
		log "$1: ${NOTE[$1]}"
	fi
}

# admin_header NAME: writes the gateway's admin token from NAME's throwaway
# data dir into the curl header file $WORK/NAME/auth-header, never printing
# it; false when there is no token.
admin_header() {
	local token=$WORK/$1/data/admin-token hdr=$WORK/$1/auth-header
	[[ -s $token ]] || return 1
	(
		umask 077
		printf 'Authorization: Bearer %s\n' "$(tr -d '[:space:]' <"$token")" >"$hdr"
	)
}

# seconds D: a wrk duration (25s, 2m, 1h) in whole seconds.
seconds() {
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}

# S3_PROFILE_ADMIN is the admin port of the gateway profile_s3 profiles;
# S3_PROFILER the pid of the profile download.
S3_PROFILE_ADMIN=
S3_PROFILER=

# profile_s3: starts fetching a CPU profile of the S3 gateway for the
# measurement's duration (less a second, so it ends inside it) into
# raw/pinpoint-S3.cpu.pprof, through the admin API's /debug/pprof.
profile_s3() {
	local secs
	if ! admin_header S3; then
		log "S3: no admin token; no profile"
		return 0
	fi
	secs=$(($(seconds "$DURATION") - 1))
	((secs > 0)) || secs=1
	log "S3: CPU profile for ${secs}s into raw/pinpoint-S3.cpu.pprof"
	start profile-S3 curl -s --noproxy '*' --max-time $((secs + 30)) -H @"$WORK/S3/auth-header" \
		-o "$OUT/raw/pinpoint-S3.cpu.pprof" "http://127.0.0.1:$S3_PROFILE_ADMIN/debug/pprof/profile?seconds=$secs"
	S3_PROFILER=$STARTED
}

# scrape_metrics NAME ADMIN_PORT: keeps the gateway's request and call-log
# counters in logs/ and CL[NAME.written|dropped|failed]. The admin token is
# read from the throwaway data dir into a header file, never printed.
declare -A CL
scrape_metrics() {
	local name=$1 admin=$2 hdr=$WORK/$1/auth-header
	local f=$OUT/logs/pinpoint-$1-metrics.txt k
	admin_header "$name" || return 0
	curl -s --noproxy '*' --max-time 5 -H @"$hdr" "http://127.0.0.1:$admin/metrics" |
		grep -E '^pinpoint_(calllog_|requests_total)' >"$f" || true
	for k in written dropped failed; do
		CL[$name.$k]=$(awk -v m="pinpoint_calllog_${k}_total" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d", s }' "$f")
	done
}

# run_pinpoint NAME CALL_LOG [KEYS] [WAF]: starts the gateway and measures it;
# S1 also fixes RATE and gets the constant-rate run. With KEYS (made by
# s2_keys in $WORK/NAME) it is S2: the access stages are on and wrk sends the
# keys in turn (bench/s2.lua). With WAF non-empty it is S3: the WAF is on, and
# the route must block S3_ATTACK before it is measured with S3's headers.
run_pinpoint() {
	local name=$1 call_log=$2 keys=${3:-} waf=${4:-} port admin pid ready=() load=()
	port=$(pick_port 18080)
	admin=$(pick_port 18090)
	mkdir -p "$WORK/$name/data"
	if [[ -n $keys ]]; then
		ready=(-H @"$WORK/$name/key-header")
		load=(bench/s2.lua "$keys" "$S2_ORIGIN")
	fi
	pinpoint_config "$call_log" "$port" "$admin" "$keys" "$waf" >"$WORK/$name/pinpoint.yaml"
	cp "$WORK/$name/pinpoint.yaml" "$OUT/logs/pinpoint-$name.yaml"
	GOMAXPROCS=1 start "pinpoint-$name" "${ON_PROXY_CPU[@]}" "$PINPOINT" serve \
		--config "$WORK/$name/pinpoint.yaml" --data-dir "$WORK/$name/data"
	pid=$STARTED
	# Ready when the route answers 200 through the proxy, which is what is measured.
	if wait_ok "http://127.0.0.1:$port/" "$pid" "${ready[@]}"; then
		if [[ -n $keys ]]; then s2_checks "$name" "$port"; fi
		if [[ -n $waf ]]; then
			if [[ $S3_PROFILE == 1 ]]; then
				S3_PROFILE_ADMIN=$admin
				ON_MEASURE[$name]=profile_s3
			fi
			s3_measure "$name" "http://127.0.0.1:$port/"
			if [[ -n $S3_PROFILER ]]; then
				wait "$S3_PROFILER" || log "$name: the profile download failed (see logs/profile-S3.log)"
				forget "$S3_PROFILER"
				S3_PROFILER=
			fi
		else
			measure "$name" "http://127.0.0.1:$port/" "${load[@]}"
		fi
		if [[ $name == S1 ]]; then
			set_rate S1
			loadgen S1 "http://127.0.0.1:$port/"
		fi
		scrape_metrics "$name" "$admin"
	else
		NOTE[$name]="did not become ready (see logs/pinpoint-$name.log)"
		log "$name: ${NOTE[$name]}"
	fi
	stop "$pid"
	# The gateway prints a first-start admin token; results keep no secrets.
	sed -i -E 's/ppadm_[A-Za-z0-9_-]+/ppadm_[redacted]/g' "$OUT/logs/pinpoint-$name.log"
	# Shows whether the call log really wrote (S1L) or stayed empty (S1).
	du -ab "$WORK/$name/data" >"$OUT/logs/pinpoint-$name-data-dir.txt" 2>&1 || true
}

if [[ -n $PINPOINT ]]; then
	run_pinpoint S1 false
	run_pinpoint S1L true
	if [[ $S2 != 0 ]]; then
		mkdir -p "$WORK/S2"
		s2_keys "$WORK/S2"
		run_pinpoint S2 false "$WORK/S2/keys"
	fi
	if [[ $S3 != 0 ]]; then run_pinpoint S3 false "" waf; fi
fi

# ---------------------------------------------------------------- bare ReverseProxy
BARE_PORT=$(pick_port 18082)
GOMAXPROCS=1 start bareproxy "${ON_PROXY_CPU[@]}" "$BIN/bareproxy" \
	-listen "127.0.0.1:$BARE_PORT" -upstream "${BACKEND%/}" -conns "$CONNS"
if wait_ok "http://127.0.0.1:$BARE_PORT/" "$STARTED"; then
	measure bare "http://127.0.0.1:$BARE_PORT/"
	set_rate bare
	loadgen bare "http://127.0.0.1:$BARE_PORT/"
else
	NOTE[bare]="did not start (see logs/bareproxy.log)"
fi
stop "$STARTED"

# ---------------------------------------------------------------- nginx
# nginx_conf DIR PORT [MODSEC_RULES]: nginx.conf of one worker proxying PORT
# to the backend over a keep-alive pool, everything in DIR. With MODSEC_RULES
# (a ModSecurity rules file) Debian's ModSecurity v3 module is loaded and on.
nginx_conf() {
	local n=$1 port=$2 rules=${3:-} load= modsec=
	if [[ -n $rules ]]; then
		load="load_module $MODSEC_MODULE;"
		modsec="modsecurity on;
	modsecurity_rules_file $rules;"
	fi
	cat <<EOF
$load
worker_processes 1;
daemon off;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $n/body;
	proxy_temp_path $n/proxy;
	fastcgi_temp_path $n/fastcgi;
	uwsgi_temp_path $n/uwsgi;
	scgi_temp_path $n/scgi;
	# Go servers never close a keep-alive connection after N requests;
	# nginx's default of 1000 would make it reconnect during the run.
	keepalive_requests 1000000;
	$modsec
	upstream backend {
		server 127.0.0.1:$BACKEND_PORT;
		keepalive $CONNS;
		keepalive_requests 1000000;
	}
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF
}

if command -v nginx >/dev/null; then
	NGINX_PORT=$(pick_port 18083)
	N=$WORK/nginx
	mkdir -p "$N"
	nginx_conf "$N" "$NGINX_PORT" >"$N/nginx.conf"
	start nginx "${ON_PROXY_CPU[@]}" nginx -p "$N" -c "$N/nginx.conf" -e "$N/error.log"
	if wait_ok "http://127.0.0.1:$NGINX_PORT/" "$STARTED"; then
		measure nginx "http://127.0.0.1:$NGINX_PORT/"
		loadgen nginx "http://127.0.0.1:$NGINX_PORT/"
	else
		NOTE[nginx]="did not start (see logs/nginx-error.log)"
	fi
	stop "$STARTED"
	cp "$N/error.log" "$OUT/logs/nginx-error.log" 2>/dev/null || true
else
	NOTE[nginx]="nginx not installed"
fi

# ---------------------------------------------------------------- caddy
if command -v caddy >/dev/null; then
	CADDY_PORT=$(pick_port 18084)
	C=$WORK/caddy
	mkdir -p "$C"
	cat >"$C/Caddyfile" <<EOF
{
	admin off
	auto_https off
	storage file_system $C/data
}
http://127.0.0.1:$CADDY_PORT {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$BACKEND_PORT {
		transport http {
			keepalive_idle_conns_per_host $CONNS
		}
	}
}
EOF
	HOME=$C XDG_DATA_HOME=$C/data XDG_CONFIG_HOME=$C/config GOMAXPROCS=1 \
		start caddy "${ON_PROXY_CPU[@]}" caddy run --config "$C/Caddyfile" --adapter caddyfile
	if wait_ok "http://127.0.0.1:$CADDY_PORT/" "$STARTED"; then
		measure caddy "http://127.0.0.1:$CADDY_PORT/"
	else
		NOTE[caddy]="did not start (see logs/caddy.log)"
	fi
	stop "$STARTED"
else
	NOTE[caddy]="caddy not packaged or not installed"
fi

# ---------------------------------------------------------------- S3: nginx + ModSecurity, stock Coraza
# modsec_rules DIR: the ModSecurity rules file of S3's nginx: Debian's
# recommended engine config, the engine turned on (the file ships
# DetectionOnly), the audit log moved into DIR, then CRS 3.3 as Debian's
# owasp-crs.load includes it (crs-setup.conf: anomaly scoring, paranoia
# level 1, inbound threshold 5). owasp-crs.load itself cannot be included:
# ModSecurity v3 does not know its IncludeOptional.
modsec_rules() {
	local f
	echo "Include $MODSEC_CONF"
	echo "SecRuleEngine On"
	echo "SecAuditLog $1/modsec_audit.log"
	echo "Include $MODSEC_CRS_SETUP"
	for f in /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf "$MODSEC_CRS_RULES/*.conf" \
		/etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf; do
		if [[ $f == *'*'* || -f $f ]]; then echo "Include $f"; fi
	done
}

if [[ $S3 != 0 ]]; then
	if modsec_installed; then
		MODSEC_PORT=$(pick_port 18086)
		M=$WORK/nginx-modsec
		mkdir -p "$M"
		modsec_rules "$M" >"$M/modsec.conf"
		nginx_conf "$M" "$MODSEC_PORT" "$M/modsec.conf" >"$M/nginx.conf"
		cp "$M/modsec.conf" "$OUT/logs/S3modsec-modsec.conf"
		cp "$M/nginx.conf" "$OUT/logs/S3modsec-nginx.conf"
		start S3modsec "${ON_PROXY_CPU[@]}" nginx -p "$M" -c "$M/nginx.conf" -e "$M/error.log"
		if wait_ok "http://127.0.0.1:$MODSEC_PORT/" "$STARTED"; then
			s3_measure S3modsec "http://127.0.0.1:$MODSEC_PORT/"
		else
			NOTE[S3modsec]="did not start (see logs/S3modsec-error.log)"
		fi
		stop "$STARTED"
		cp "$M/error.log" "$OUT/logs/S3modsec-error.log" 2>/dev/null || true
	else
		NOTE[S3modsec]="nginx + ModSecurity + CRS not installed"
	fi

	CORAZA_PORT=$(pick_port 18085)
	mkdir -p "$WORK/coraza"
	GOMAXPROCS=1 start S3coraza "${ON_PROXY_CPU[@]}" "$BIN/corazaproxy" -listen "127.0.0.1:$CORAZA_PORT" \
		-upstream "${BACKEND%/}" -conns "$CONNS" -audit-log "$WORK/coraza/audit.log"
	if wait_ok "http://127.0.0.1:$CORAZA_PORT/" "$STARTED"; then
		s3_measure S3coraza "http://127.0.0.1:$CORAZA_PORT/"
	else
		NOTE[S3coraza]="did not start (see logs/S3coraza.log)"
	fi
	stop "$STARTED"
fi

# The reference for "added latency": the backend alone at the same rate,
# with no proxy running.
loadgen S0 "$BACKEND"

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/environment.txt"

# ---------------------------------------------------------------- report
# ratio A B: RPS[A] / RPS[B] to two decimals, or "—" when either is missing.
ratio() {
	if [[ -z ${RPS[$1]:-} || -z ${RPS[$2]:-} ]]; then
		echo "—"
		return
	fi
	awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "—" }'
}

# added NAME KEY: LG[NAME.KEY] − LG[S0.KEY] in ms.
added() { awk -v a="${LG[$1.$2]}" -v b="${LG[S0.$2]}" 'BEGIN { printf "%+.3f", a - b }'; }

ROWS=("S0:S0 direct to backend" "S1:S1 pinpoint, call log off" "S1L:S1L pinpoint, call log on (SQLite)"
	"S2:S2 pinpoint, API key ($S2_KEYS consumers) + authorize + ip + cors"
	"S3:S3 pinpoint, WAF (CRS v4, paranoia 1, blocking)"
	"S3modsec:S3 nginx + ModSecurity v3 (CRS 3.3, paranoia 1, blocking)"
	"S3coraza:S3 stock Coraza proxy (CRS v4, paranoia 1, blocking)"
	"bare:bare httputil.ReverseProxy" "nginx:nginx proxy_pass, keepalive" "caddy:caddy reverse_proxy")

{
	echo "# Pinpoint load benchmark — $(date -u +%FT%TZ)"
	echo
	echo '```'
	cat "$OUT/environment.txt"
	echo '```'
	echo
	echo "## Maximum throughput (wrk, $CONNS connections, $DURATION)"
	echo
	echo "| scenario | req/s | p50 ms | p99 ms | × direct | × nginx | × bare proxy | proxy CPU % | load CPU % | errors |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for row in "${ROWS[@]}"; do
		key=${row%%:*}
		label=${row#*:}
		if [[ -n ${RPS[$key]:-} ]]; then
			printf '| %s | %.0f | %.3f | %.3f | %s | %s | %s | %s | %s | %s |\n' "$label" "${RPS[$key]}" "${P50[$key]}" \
				"${P99[$key]}" "$(ratio "$key" S0)" "$(ratio "$key" nginx)" "$(ratio "$key" bare)" \
				"${CPU0[$key]}" "${CPU1[$key]}" "${ERRS[$key]}"
		else
			printf '| %s | skipped: %s | | | | | | | | |\n' "$label" "${NOTE[$key]:-not run}"
		fi
	done
	echo
	if [[ -n ${RPS[S1]:-} && -n ${RPS[S1L]:-} ]]; then
		awk -v a="${RPS[S1L]}" -v b="${RPS[S1]}" 'BEGIN { printf "Call-log overhead (1 − S1L/S1 req/s): %.1f%%\n", (1 - a / b) * 100 }'
		if [[ -n ${CL[S1L.written]:-} ]]; then
			echo
			echo "Call-log records at the end of S1L: ${CL[S1L.written]} written, ${CL[S1L.dropped]} dropped (buffer full), ${CL[S1L.failed]} failed."
			if [[ ${CL[S1L.dropped]} != 0 ]]; then
				echo "Dropped records cost the gateway nothing, so the overhead above understates the cost of logging every call."
			fi
		fi
	else
		echo "Call-log overhead: not measured (needs S1 and S1L)."
	fi
	echo
	if [[ -n ${RPS[S2]:-} && -n ${RPS[S1]:-} ]]; then
		awk -v a="${RPS[S2]}" -v b="${RPS[S1]}" 'BEGIN {
			r = a / b
			printf "Access stages (S2/S1 req/s): %.0f / %.0f = %.2f (target ≥ 0.90: %s)\n", a, b, r, r >= 0.9 ? "met" : "NOT met" }'
		if [[ ${ERRS[S2]} != 0 || ${ERRS[S1]} != 0 ]]; then
			echo
			echo "S1 had ${ERRS[S1]} and S2 ${ERRS[S2]} errors (non-2xx or socket): a row with errors is not a valid measurement, nor is this ratio."
		fi
		if [[ -n ${CHECK[key]:-} ]]; then
			echo
			echo "S2's route before the measurement: with a key and Origin ${CHECK[key]}" \
				"(Access-Control-Allow-Origin: ${CHECK[acao]:-none}), without a key ${CHECK[nokey]}," \
				"with a wrong secret ${CHECK[wrong]}, preflight ${CHECK[preflight]}."
		fi
	else
		echo "Access-stage cost: not measured (needs S1 and S2)."
	fi
	echo
	echo "## WAF (S3): OWASP CRS, paranoia level 1, anomaly blocking at 5 (wrk, $CONNS connections, $DURATION)"
	echo
	if [[ $S3 == 0 ]]; then
		echo "Not run (S3=0)."
	else
		echo "Every target blocks with the CRS's anomaly scoring and gets the same plain GET with S3's headers"
		echo "(${S3_HEADERS[*]}). Before it is measured it must answer that GET 200 and a SQL injection 403."
		echo
		echo "| target | rule set | req/s | p50 ms | p99 ms | proxy CPU % | errors | GET / | SQL injection |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
		for row in "S3:pinpoint, WAF stage on the route:CRS $CRS_VERSION (Coraza $CORAZA_VERSION)" \
			"S3modsec:nginx + ModSecurity v3:CRS $MODSEC_CRS_VERSION" \
			"S3coraza:stock Coraza (net/http middleware + ReverseProxy):CRS $CRS_VERSION (Coraza $CORAZA_VERSION)"; do
			key=${row%%:*}
			label=${row#*:}
			rules=${label#*:}
			label=${label%%:*}
			checks="${S3CHECK[$key.plain]:-—} | ${S3CHECK[$key.attack]:-—}${S3CHECK[$key.code]:+ ${S3CHECK[$key.code]}}"
			if [[ -n ${RPS[$key]:-} ]]; then
				printf '| %s | %s | %.0f | %.3f | %.3f | %s | %s | %s |\n' "$label" "$rules" "${RPS[$key]}" "${P50[$key]}" \
					"${P99[$key]}" "${CPU0[$key]}" "${ERRS[$key]}" "$checks"
			else
				printf '| %s | %s | skipped: %s | | | | | %s |\n' "$label" "$rules" "${NOTE[$key]:-not run}" "$checks"
			fi
		done
		echo
		echo "| ratio (req/s) | value |"
		echo "|---|---:|"
		echo "| Pinpoint / nginx + ModSecurity (S3 / S3modsec) | $(ratio S3 S3modsec) |"
		echo "| Pinpoint / stock Coraza (S3 / S3coraza) | $(ratio S3 S3coraza) |"
		echo "| Pinpoint with the WAF / without (S3 / S1) | $(ratio S3 S1) |"
		echo
		echo "nginx + ModSecurity runs Debian's CRS $MODSEC_CRS_VERSION (3.3), the others CRS $CRS_VERSION: the rule sets differ."
		for key in S3 S3modsec S3coraza; do
			if [[ -n ${ERRS[$key]:-} && ${ERRS[$key]} != 0 ]]; then
				echo
				echo "$key had ${ERRS[$key]} errors (non-2xx or socket): its row and ratios are not a valid measurement."
			fi
		done
		if [[ -s $OUT/raw/pinpoint-S3.cpu.pprof ]]; then
			echo
			echo "CPU profile of Pinpoint during S3: raw/pinpoint-S3.cpu.pprof (go tool pprof -top raw/pinpoint-S3.cpu.pprof)."
		fi
	fi
	echo
	echo "## Added latency at half of Pinpoint's maximum throughput (loadgen, $CONNS connections, $DURATION)"
	echo
	if [[ -z $RATE ]]; then
		echo "Not measured: neither Pinpoint nor the bare proxy produced a maximum to halve."
	else
		if [[ -n ${RPS[S1]:-} ]]; then
			echo "Every target gets the same constant load: $RATE req/s, half of Pinpoint's (S1) maximum."
		else
			echo "Pinpoint did not run, so the constant load is half of the bare proxy's maximum: $RATE req/s."
		fi
		echo "Latency counts from each request's scheduled send time (no coordinated omission);"
		echo "added = target − direct. Load CPU above ~90% means the load side, not the target, set the latency."
		echo
		echo "| target | rate req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | added p50 ms | added p99 ms | load CPU % | errors |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for row in "S0:direct (backend only)" "S1:pinpoint (S1)" "bare:bare httputil.ReverseProxy" "nginx:nginx"; do
			key=${row%%:*}
			label=${row#*:}
			if [[ -n ${LG[$key.p99_ms]:-} ]]; then
				if [[ $key != S0 && -n ${LG[S0.p99_ms]:-} ]]; then
					a50=$(added "$key" p50_ms)
					a99=$(added "$key" p99_ms)
				else
					a50="—" a99="—"
				fi
				printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${LG[$key.target_rps]}" \
					"${LG[$key.achieved_rps]}" "${LG[$key.p50_ms]}" "${LG[$key.p99_ms]}" "${LG[$key.p999_ms]}" \
					"$a50" "$a99" "${LG[$key.cpu1]}" "$((LG[$key.errors] + LG[$key.non_2xx]))"
			else
				printf '| %s | skipped: %s | | | | | | | | |\n' "$label" "${LG[$key.note]:-${NOTE[$key]:-not run}}"
			fi
		done
		for key in S0 S1 bare nginx; do
			[[ -n ${LG[$key.achieved_rps]:-} ]] || continue
			awk -v n="$key" -v a="${LG[$key.achieved_rps]}" -v t="${LG[$key.target_rps]}" 'BEGIN {
				if (a < 0.95 * t) printf "\nNote: %s reached %.0f of %.0f req/s; its latencies include that backlog.\n", n, a, t }'
		done
	fi
	echo
	echo "Raw wrk and loadgen output: raw/. Process logs and the gateway configs: logs/."
} >"$OUT/table.md"

cat "$OUT/table.md"
log "results in $OUT"
