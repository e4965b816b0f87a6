#!/usr/bin/env bash
# Pinpoint cluster benchmark: one gateway node against three nodes on the
# same PostgreSQL store, all pinned to the same core, with the same load.
# See bench/README.md ("Cluster").
#
#   bench/cluster.sh                    # about 1 minute
#   DURATION=8s CONNS=60 bench/cluster.sh
#   LIMITED=0 bench/cluster.sh          # without the API-key + Redis rate limit route
#   NODE_STORE=sqlite bench/cluster.sh  # control: each node on its own SQLite store, nothing
#                                       # shared but Redis, to see what sharing one core costs
#
# Results (raw wrk output, logs, table.md) go to bench/results/cluster-<UTC time>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10s}   # each measurement
WARMUP=${WARMUP:-2s}        # unmeasured load before each measurement
CONNS=${CONNS:-60}          # connections in all, split over three wrk processes
LIMITED=${LIMITED:-1}       # 0 skips the API-key route with a Redis rate limit
PG_HOST=${PG_HOST:-127.0.0.1}
PG_USER=${PG_USER:-postgres}
PG_DB=${PG_DB:-test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
PINPOINT_BIN=${PINPOINT_BIN:-} # a prebuilt gateway instead of building ./cmd/pinpoint
NODE_STORE=${NODE_STORE:-postgres} # postgres (the cluster) or sqlite (the control: one store per node)
PIN=${PIN:-1}               # 0: nothing pinned, every process on both cores, Go's default GOMAXPROCS
NODES=3

BIN=bench/.bin
OUT=bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d -t pinpoint-cluster.XXXXXX) # config, key, data dirs; removed on exit
SUFFIX=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
SCHEMA=bench_cluster_$SUFFIX
REDIS_PREFIX="pinpoint-bench-$SUFFIX:"
STORE="postgres://$PG_USER@$PG_HOST:5432/$PG_DB?search_path=$SCHEMA"
case $NODE_STORE in
postgres) STORE_ARGS=(--store "$STORE") ;;
sqlite) STORE_ARGS=() ;;
*) echo "NODE_STORE must be postgres or sqlite" >&2; exit 1 ;;
esac
PER_WRK=$((CONNS / NODES))
((PER_WRK >= 1)) || { echo "CONNS must be at least $NODES" >&2; exit 1; }
mkdir -p "$BIN" "$OUT/raw" "$OUT/logs"

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
psql_q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -h "$PG_HOST" -U "$PG_USER" -d "$PG_DB" -c "$1"; }

# ---------------------------------------------------------------- processes
# Every process started here is in PIDS; cleanup stops them all, drops the
# schema and the Redis keys, whether the run finished, failed or was interrupted.
# shellcheck source=bench/lib.sh
source bench/lib.sh
SCHEMA_MADE=0

cleanup() {
	stop_all
	if ((SCHEMA_MADE)); then
		psql_q "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || log "could not drop schema $SCHEMA"
	fi
	if command -v redis-cli >/dev/null; then
		redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null |
			xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
	fi
	sed -i -E 's/ppadm_[A-Za-z0-9_-]+/ppadm_[redacted]/g' "$OUT"/logs/*.log 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



# stop_nodes: stops every gateway node started so far (the backend is not in NODE_PIDS).
NODE_PIDS=()
stop_nodes() {
	local pid
	for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done
	forget "${NODE_PIDS[@]}"
	NODE_PIDS=()
}

# ---------------------------------------------------------------- CPU placement
# Every gateway node on CPU 0 (GOMAXPROCS=1 each: the nodes share that core);
# the backend and wrk on CPU 1. PostgreSQL and Redis are not pinned.
NODE_GOMAXPROCS=1 # empty: Go's default
if ((PIN)); then
	pin_cpus || { log "WARNING: fewer than 2 CPUs or no taskset: running unpinned"; NODE_GOMAXPROCS=; }
else
	ON_PROXY_CPU=()
	ON_LOAD_CPU=()
	PINNED=no
	NODE_GOMAXPROCS=
fi
check_load

# wait_ok URL PID [CURL ARGS...]: waits up to 60s for URL to answer 200, failing early if PID exits.
wait_ok() {
	local url=$1 pid=$2 i
	shift 2
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		[[ $(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 1 "$@" "$url" || true) == 200 ]] && return 0
		sleep 0.1
	done
	return 1
}

code_of() { curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --max-time 2 "${@:2}" "$1" || true; }

# ---------------------------------------------------------------- build, store, backend
for tool in wrk curl psql; do
	command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done
log "building into $BIN"
go build -o "$BIN/backend" ./bench/backend
go build -o "$BIN/keygen" ./bench/keygen
PINPOINT=${PINPOINT_BIN:-$BIN/pinpoint}
if [[ -z $PINPOINT_BIN ]] && ! go build -o "$PINPOINT" ./cmd/pinpoint >"$OUT/logs/build-pinpoint.log" 2>&1; then
	log "the gateway does not build (see $OUT/logs/build-pinpoint.log)"
	exit 1
fi

psql_q "CREATE SCHEMA $SCHEMA" >/dev/null
SCHEMA_MADE=1
log "store: schema $SCHEMA in $PG_DB on $PG_HOST (dropped on exit)"

BACKEND_PORT=$(pick_port 18081)
GOMAXPROCS=1 start backend "${ON_LOAD_CPU[@]}" "$BIN/backend" -listen "127.0.0.1:$BACKEND_PORT"
wait_ok "http://127.0.0.1:$BACKEND_PORT/" "$STARTED" || { log "backend did not start"; exit 1; }

# One key for the limited route: the config holds only its id and hash.
"$BIN/keygen" -n 1 -env live >"$WORK/key"
read -r KEY_ID KEY_SUM KEY <"$WORK/key"
TOKEN=ppadm_bench_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
(
	umask 077
	printf 'X-API-Key: %s\n' "$KEY" >"$WORK/key-header"
	printf 'Authorization: Bearer %s\n' "$TOKEN" >"$WORK/admin-header"
)

# The config every node gets (byte-identical, docs/cluster.md pattern 1); the
# listener addresses come from each node's environment. /plain is a plain
# route; /limited needs the key and counts every request in one Redis bucket
# (key: route) with a limit no run reaches.
{
	cat <<EOF
version: 1
gateway:
  call_log:
    enabled: true
listeners:
  - {name: public, kind: proxy, address: "\${PP_NODE_PROXY}"}
  - {name: admin, kind: admin, address: "\${PP_NODE_ADMIN}"}
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: bench-001
    api_keys:
      - {id: $KEY_ID, sha256: $KEY_SUM}
routes:
  - name: plain
    paths: ["/plain"]
    upstream: backend
  - name: limited
    paths: ["/limited"]
    upstream: backend
    auth: {methods: [keys]}
    rate_limits:
      - {name: shared, rate: 100000000/h, burst: 100000000, key: route, store: redis, on_store_error: fail_closed}
redis:
  url: "$REDIS_URL"
  key_prefix: "$REDIS_PREFIX"
upstreams:
  - name: backend
    targets:
      - url: "http://127.0.0.1:$BACKEND_PORT"
    pool:
      max_idle_per_target: $CONNS
EOF
} >"$WORK/gateway.yaml"
cp "$WORK/gateway.yaml" "$OUT/logs/gateway.yaml"

# start_nodes N: starts nodes 1..N on the store, one after another; sets
# PORTS and ADMINS.
PORTS=()
ADMINS=()
start_nodes() {
	local i port admin
	PORTS=()
	ADMINS=()
	for ((i = 1; i <= $1; i++)); do
		port=$(pick_port 18180)
		admin=$(pick_port 18190)
		mkdir -p "$WORK/node$i-$1"
		PINPOINT_ADMIN_TOKEN=$TOKEN PP_NODE_PROXY=127.0.0.1:$port PP_NODE_ADMIN=127.0.0.1:$admin GOMAXPROCS=$NODE_GOMAXPROCS \
			start "node$i-of-$1" "${ON_PROXY_CPU[@]}" "$PINPOINT" serve "${STORE_ARGS[@]}" \
			--node-id "bench-$i" --config "$WORK/gateway.yaml" --data-dir "$WORK/node$i-$1"
		NODE_PIDS+=("$STARTED")
		if ! wait_ok "http://127.0.0.1:$port/plain" "$STARTED"; then
			log "node $i of $1 did not become ready (see $OUT/logs/node$i-of-$1.log)"
			exit 1
		fi
		PORTS+=("$port")
		ADMINS+=("$admin")
	done
}

# ---------------------------------------------------------------- measurement
declare -A RPS P99 ERRS CPU0 CPU1 CALLS DROPPED

# calllog_total WHAT: pinpoint_calllog_WHAT_total summed over the running nodes.
calllog_total() {
	local admin
	for admin in "${ADMINS[@]}"; do
		curl -s --noproxy '*' --max-time 5 -H @"$WORK/admin-header" "http://127.0.0.1:$admin/metrics" || true
	done | awk -v m="pinpoint_calllog_$1_total" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d", s }'
}

# calls_stored: call-log rows in the shared store, or (control run, one
# SQLite store per node) the records the running nodes report written.
calls_stored() {
	if [[ $NODE_STORE == postgres ]]; then
		psql_q "SELECT count(*) FROM $SCHEMA.calls"
	else
		calllog_total written
	fi
}

# parse FILE: "req/s p99_ms errors" of one wrk --latency output.
parse() {
	awk '
		function ms(v, n, u) {
			n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
			if (u == "us") return n / 1000
			if (u == "s") return n * 1000
			return n
		}
		/^ +99% / { p99 = ms($2) }
		/^Requests\/sec:/ { rps = $2 }
		/Non-2xx or 3xx responses:/ { errs += $NF }
		/Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
		END { printf "%s %s %d\n", rps, p99, errs }' "$1"
}

# wrk_split NAME DURATION PATH [HEADER]: three wrk processes in parallel, each
# one thread and CONNS/3 connections, the i-th to node i mod the nodes running.
wrk_split() {
	local name=$1 d=$2 path=$3 i pids=() port rc=0 hdr=()
	if [[ -n ${4:-} ]]; then hdr=(-H "$4"); fi
	for ((i = 0; i < NODES; i++)); do
		port=${PORTS[i % ${#PORTS[@]}]}
		"${ON_LOAD_CPU[@]}" wrk -t1 -c"$PER_WRK" -d"$d" --latency "${hdr[@]}" \
			"http://127.0.0.1:$port$path" >"$OUT/raw/wrk-$name-$i.txt" 2>&1 &
		pids+=("$!")
		PIDS+=("$!")
	done
	# A bucket this generous lives only while requests arrive: look mid-run.
	if [[ $name == limited-[0-9]* && $name != *warmup ]]; then
		sleep 1
		redis_keys "$name"
	fi
	for i in "${pids[@]}"; do wait "$i" || rc=1; done
	forget "${pids[@]}"
	return "$rc"
}

# measure NAME PATH [HEADER]: warm-up, then the measurement; sums req/s and
# errors over the three wrk processes, p99 is the largest of their p99s.
measure() {
	local name=$1 path=$2 hdr=${3:-} c0 c1 before dropped i r p e
	log "$name: warm-up $WARMUP, then $NODES x wrk -t1 -c$PER_WRK -d$DURATION on ${#PORTS[@]} node(s), $path"
	wrk_split "$name-warmup" "$WARMUP" "$path" "$hdr" || { log "$name: wrk failed"; exit 1; }
	before=$(calls_stored)
	dropped=$(calllog_total dropped)
	c0=$(cpu_ticks 0)
	c1=$(cpu_ticks 1)
	wrk_split "$name" "$DURATION" "$path" "$hdr" || { log "$name: wrk failed"; exit 1; }
	CPU0[$name]=$(busy "$c0" "$(cpu_ticks 0)")
	CPU1[$name]=$(busy "$c1" "$(cpu_ticks 1)")
	RPS[$name]=0 P99[$name]=0 ERRS[$name]=0
	for ((i = 0; i < NODES; i++)); do
		read -r r p e < <(parse "$OUT/raw/wrk-$name-$i.txt")
		RPS[$name]=$(awk -v a="${RPS[$name]}" -v b="$r" 'BEGIN { printf "%.0f", a + b }')
		P99[$name]=$(awk -v a="${P99[$name]}" -v b="$p" 'BEGIN { print (b > a ? b : a) }')
		ERRS[$name]=$((ERRS[$name] + e))
	done
	sleep 0.5 # the call-log writers flush at least every 200 ms
	CALLS[$name]=$(($(calls_stored) - before))
	DROPPED[$name]=$(($(calllog_total dropped) - dropped))
}

CHECKS=$OUT/logs/checks.txt
: >"$CHECKS"
# check_limited: the limited route refuses without the key and admits with it on every node.
check_limited() {
	local port
	for port in "${PORTS[@]}"; do
		printf '%s node :%s /limited without key %s, with key %s\n' "$1" "$port" \
			"$(code_of "http://127.0.0.1:$port/limited")" \
			"$(code_of "http://127.0.0.1:$port/limited" -H @"$WORK/key-header")" >>"$CHECKS"
	done
}

# redis_keys LABEL: lists the run's Redis keys during a limited measurement:
# one key for all nodes means they share one bucket.
redis_keys() {
	local k
	command -v redis-cli >/dev/null || return 0
	redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null | while read -r k; do
		printf '%s Redis key %s (ttl %s ms)\n' "$1" "$k" "$(redis-cli -u "$REDIS_URL" pttl "$k")"
	done >>"$CHECKS"
}

run_scenarios() {
	local n=$1
	start_nodes "$n"
	measure "plain-$n" /plain
	if [[ $LIMITED != 0 ]]; then
		check_limited "$n-node"
		measure "limited-$n" /limited "X-API-Key: $KEY"
	fi
	stop_nodes
}

run_scenarios 1
run_scenarios "$NODES"


# ---------------------------------------------------------------- report
ratio() { awk -v a="${RPS[$1]:-0}" -v b="${RPS[$2]:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
{
	echo "# Pinpoint cluster benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	if [[ $PINNED == yes ]]; then
		echo "$(nproc) CPUs, pinned=yes: gateway nodes on CPU 0 (GOMAXPROCS=1 each), backend and wrk on CPU 1."
	else
		echo "$(nproc) CPUs, pinned=no: every process on every core, Go's default GOMAXPROCS."
	fi
	if [[ $NODE_STORE == sqlite ]]; then
		echo "Store: CONTROL RUN, each node on its own SQLite store (nothing shared but Redis); call log on. Load: $NODES wrk processes, 1 thread"
	else
		echo "Store: PostgreSQL $PG_HOST/$PG_DB, schema $SCHEMA; call log on. Load: $NODES wrk processes, 1 thread"
	fi
	echo "and $PER_WRK connections each, ${DURATION} after ${WARMUP} warm-up. Load average before: $LOAD_BEFORE."
	echo
	echo "| scenario | nodes | req/s (sum) | p99 ms (max) | CPU 0 % | CPU 1 % | calls logged | calls dropped | errors |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for name in plain-1 "plain-$NODES" limited-1 "limited-$NODES"; do
		[[ -n ${RPS[$name]:-} ]] || continue
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${name%-*}" "${name##*-}" "${RPS[$name]}" \
			"${P99[$name]}" "${CPU0[$name]}" "${CPU1[$name]}" "${CALLS[$name]}" "${DROPPED[$name]}" "${ERRS[$name]}"
	done
	echo
	echo "Ratio $NODES nodes / 1 node (req/s), target at least 0.90:"
	echo
	echo "- plain: $(ratio "plain-$NODES" plain-1)"
	if [[ $LIMITED != 0 ]]; then echo "- limited (API key + Redis rate limit): $(ratio "limited-$NODES" limited-1)"; fi
	echo
	echo "Checks (status codes; the Redis keys of the shared bucket):"
	echo
	sed 's/^/    /' "$CHECKS"
	echo
	echo "Raw wrk output: raw/. Node logs and the config: logs/. Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$OUT/table.md"

cat "$OUT/table.md"
log "results in $OUT"
