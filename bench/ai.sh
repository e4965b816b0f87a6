#!/usr/bin/env bash
# AI gateway benchmark: OpenAI chat completions, non-streamed and streamed,
# through Pinpoint's AI endpoint, the Portkey AI gateway and a bare Go
# ReverseProxy, all in front of the same fake OpenAI server, on 127.0.0.1 only.
# See bench/README.md, section "AI scenario".
#
#   bench/ai.sh                          # about 4 minutes
#   DURATION=5s WARMUP=2s bench/ai.sh    # shorter
#   PORTKEY=0 bench/ai.sh                # without Portkey (no node/npm needed)
#
# Results (raw aiload output, logs, table.md) go to bench/results/ai-<UTC time>/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-15s}       # each measurement
WARMUP=${WARMUP:-8s}            # unmeasured load before each measurement (Portkey needs several seconds to reach its pace)
CONNS=${CONNS:-64}              # concurrent keep-alive connections of the load
CHUNKS=${CHUNKS:-50}            # content chunks per streamed completion
CHUNK_DELAY=${CHUNK_DELAY:-0}   # the fake's pause before each chunk in scenario S (throughput)
PACED_DELAY=${PACED_DELAY:-5ms} # the fake's pause before each chunk in scenario P; 0 skips P
PACED_CONNS=${PACED_CONNS:-16}  # connections in scenario P (few: it measures per-chunk delay, not throughput)
LIGHT_CONNS=${LIGHT_CONNS:-4}   # connections in scenario L (light load: the latency a target adds, not its queueing)
PORTKEY=${PORTKEY:-1}           # 0 skips the Portkey rows
API_KEY=sk-bench-provider-key   # the fake's provider key; every target must forward it
MODEL=gpt-4o-mini
CHAT_PATH=/v1/chat/completions
COMPLETION_ID=chatcmpl-pinpointbench # what the fake's replies carry (fakeopenai.CompletionID)

BIN=bench/.bin
PORTKEY_DIR=bench/ai/portkey
OUT=bench/results/ai-$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d -t pinpoint-aibench.XXXXXX) # request bodies, removed on exit
mkdir -p "$BIN" "$OUT/raw" "$OUT/logs"

log() { printf '[ai-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- processes
# shellcheck source=bench/lib.sh
source bench/lib.sh

cleanup() {
	stop_all
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- machine
pin_cpus || log "WARNING: fewer than 2 CPUs or no taskset: running unpinned; numbers are not comparable to pinned runs"
check_load

# chat_body FILE STREAM: writes aiload's request body (the same the load sends)
# for curl's checks.
STREAM_BODY=$WORK/stream.json
PLAIN_BODY=$WORK/plain.json
{
	printf '{"model":"%s","messages":[{"role":"system","content":"You are a concise assistant for an API gateway'"'"'s documentation."},' "$MODEL"
	printf '{"role":"user","content":"In one sentence, what does an API gateway do?"}],"max_tokens":128,"temperature":0.2}'
} >"$PLAIN_BODY"
sed 's/}$/,"stream":true,"stream_options":{"include_usage":true}}/' "$PLAIN_BODY" >"$STREAM_BODY"

# check URL FILE HEADER...: POSTs FILE to URL with the headers and prints
# the status and the reply; the reply goes to logs/checks.txt too.
check() {
	local url=$1 body=$2 args=() h
	shift 2
	for h in "$@"; do args+=(-H "$h"); done
	curl -sS --noproxy '*' --max-time 5 -H 'Content-Type: application/json' "${args[@]}" \
		--data-binary @"$body" -w '\nstatus %{http_code}\n' "$url" 2>&1 || true
}

# wait_ready URL PID HEADER...: waits up to 30 s for URL to answer a chat
# completion with the fake's reply (so the target really reached the fake).
wait_ready() {
	local url=$1 pid=$2 i
	shift 2
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if check "$url" "$PLAIN_BODY" "$@" | grep -q "\"id\":\"$COMPLETION_ID"; then return 0; fi
		sleep 0.1
	done
	return 1
}

declare -A M NOTE CHECK

# aiload_run NAME SCENARIO URL CONNS ARGS...: one measurement; its values go
# to M[NAME.SCENARIO.key].
aiload_run() {
	local name=$1 sc=$2 url=$3 conns=$4 f=$OUT/raw/aiload-$1-$2.txt c0 c1 k v
	shift 4
	log "$name $sc: warm-up $WARMUP, then aiload -conns $conns -duration $DURATION $(printf '%s ' "$@" | sed -E 's/(Bearer pp_[a-z]+_[a-z0-9]+_)[A-Za-z0-9]+/\1[redacted]/g')"
	c0=$(cpu_ticks 0)
	c1=$(cpu_ticks 1)
	if ! GOMAXPROCS=1 run_fg "${ON_LOAD_CPU[@]}" "$BIN/aiload" -url "$url" -conns "$conns" -duration "$DURATION" \
		-warmup "$WARMUP" -model "${RUN_MODEL:-$MODEL}" "$@" >"$f" 2>"$OUT/raw/aiload-$name-$sc.err"; then
		NOTE[$name.$sc]="aiload failed (see raw/aiload-$name-$sc.err)"
		log "$name $sc: ${NOTE[$name.$sc]}"
		return 0
	fi
	# The warm-up is in the CPU window too; it runs the same load.
	M[$name.$sc.cpu0]=$(busy "$c0" "$(cpu_ticks 0)")
	M[$name.$sc.cpu1]=$(busy "$c1" "$(cpu_ticks 1)")
	while read -r k v; do M[$name.$sc.$k]=$v; done <"$f"
	M[$name.$sc.bad]=$((M[$name.$sc.errors] + M[$name.$sc.non_2xx] + M[$name.$sc.incomplete]))
	log "$name $sc: ${M[$name.$sc.rps]}/s, p50 ${M[$name.$sc.p50_ms]} ms, p99 ${M[$name.$sc.p99_ms]} ms, bad ${M[$name.$sc.bad]}, CPU proxy ${M[$name.$sc.cpu0]}% load ${M[$name.$sc.cpu1]}%"
}

# measure NAME URL PACED_URL HEADER...: the three scenarios against one
# target. URL leads to the fake of N and S, PACED_URL to the paced fake of P
# (for a proxy these differ only in where the proxy forwards to).
measure() {
	local name=$1 url=$2 paced=$3 hs=() h
	shift 3
	for h in "$@"; do hs+=(-header "$h"); done
	CHECK[$name.plain]=$(check "$url" "$PLAIN_BODY" "$@" | tail -1)
	CHECK[$name.stream]=$(check "$url" "$STREAM_BODY" "$@" | grep -c '^data: ' || true)
	{
		echo "== $name: non-streamed"
		check "$url" "$PLAIN_BODY" "$@"
		echo "== $name: streamed"
		check "$url" "$STREAM_BODY" "$@"
	} >>"$OUT/logs/checks.txt"
	aiload_run "$name" N "$url" "$CONNS" "${hs[@]}"
	aiload_run "$name" L "$url" "$LIGHT_CONNS" "${hs[@]}"
	aiload_run "$name" S "$url" "$CONNS" -stream -chunks "$CHUNKS" "${hs[@]}"
	if [[ -n $paced ]]; then
		aiload_run "$name" P "$paced" "$PACED_CONNS" -stream -chunks "$CHUNKS" "${hs[@]}"
	fi
}

# ---------------------------------------------------------------- build
log "building fakeopenai, aiload, bareproxy, keygen, pinpoint"
go build -o "$BIN/fakeopenai" ./bench/ai/fakeopenai
go build -o "$BIN/aiload" ./bench/ai/aiload
go build -o "$BIN/bareproxy" ./bench/bareproxy
go build -o "$BIN/keygen" ./bench/keygen
if ! go build -o "$BIN/pinpoint" ./cmd/pinpoint >"$OUT/logs/build-pinpoint.log" 2>&1; then
	NOTE[pinpoint]="pinpoint does not build (see logs/build-pinpoint.log)"
fi

PORTKEY_VERSION=
if [[ $PORTKEY != 0 ]]; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		NOTE[portkey]="node and npm are not installed"
	else
		# Install when node_modules is missing or older than the lockfile.
		if [[ ! -d $PORTKEY_DIR/node_modules/@portkey-ai/gateway || $PORTKEY_DIR/package-lock.json -nt $PORTKEY_DIR/node_modules/.package-lock.json ]]; then
			log "npm ci in $PORTKEY_DIR"
			if ! (cd "$PORTKEY_DIR" && npm ci --no-audit --no-fund) >"$OUT/logs/npm-ci.log" 2>&1; then
				NOTE[portkey]="npm ci failed (see logs/npm-ci.log)"
			fi
		fi
		if [[ -z ${NOTE[portkey]:-} ]]; then
			PORTKEY_VERSION=$(node -p "require('./$PORTKEY_DIR/node_modules/@portkey-ai/gateway/package.json').version")
			HONO_NODE_VERSION=$(node -p "require('./$PORTKEY_DIR/node_modules/@hono/node-server/package.json').version")
		fi
	fi
else
	NOTE[portkey]="PORTKEY=0"
fi

{
	echo "date:        $(date -u +%FT%TZ)"
	echo "cpu:         $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) CPUs)"
	echo "kernel:      $(uname -r)"
	echo "go:          $(go version | cut -d' ' -f3-)"
	echo "node:        $(node --version 2>/dev/null || echo none)"
	echo "portkey:     ${PORTKEY_VERSION:-not run} (@hono/node-server ${HONO_NODE_VERSION:-—})"
	echo "pinned:      $PINNED (proxy on CPU 0; fake and aiload on CPU 1)"
	echo "settings:    DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS CHUNKS=$CHUNKS CHUNK_DELAY=$CHUNK_DELAY PACED_DELAY=$PACED_DELAY PACED_CONNS=$PACED_CONNS"
	echo "load average before: $LOAD_BEFORE"
} >"$OUT/environment.txt"

# ---------------------------------------------------------------- the fakes
# Two fakes, both on the load core: FAKE streams as fast as it can
# (CHUNK_DELAY), PACED waits PACED_DELAY before each chunk, as a model does.
FAKE_PORT=$(pick_port 18091)
GOMAXPROCS=1 start fakeopenai "${ON_LOAD_CPU[@]}" "$BIN/fakeopenai" -listen "127.0.0.1:$FAKE_PORT" \
	-chunks "$CHUNKS" -chunk-delay "$CHUNK_DELAY" -api-key "$API_KEY"
FAKE_PID=$STARTED
FAKE=http://127.0.0.1:$FAKE_PORT
PACED=
if [[ $PACED_DELAY != 0 ]]; then
	PACED_PORT=$(pick_port 18095)
	GOMAXPROCS=1 start fakeopenai-paced "${ON_LOAD_CPU[@]}" "$BIN/fakeopenai" -listen "127.0.0.1:$PACED_PORT" \
		-chunks "$CHUNKS" -chunk-delay "$PACED_DELAY" -api-key "$API_KEY"
	PACED_PID=$STARTED
	PACED=http://127.0.0.1:$PACED_PORT
fi
AUTH="Authorization: Bearer $API_KEY"
if ! wait_ready "$FAKE$CHAT_PATH" "$FAKE_PID" "$AUTH" || { [[ -n $PACED ]] && ! wait_ready "$PACED$CHAT_PATH" "$PACED_PID" "$AUTH"; }; then
	log "the fake OpenAI server did not start (see $OUT/logs/fakeopenai*.log)"
	exit 1
fi

# ---------------------------------------------------------------- targets
# direct: no proxy; aiload and the fake share CPU 1, so this is the load
# side's ceiling rather than a single-core comparison.
measure direct "$FAKE$CHAT_PATH" "${PACED:+$PACED$CHAT_PATH}" "$AUTH"

# bare: httputil.ReverseProxy with -full-duplex (see bench/bareproxy), one
# instance per fake so P's proxy forwards to the paced one.
BARE_PORT=$(pick_port 18092)
GOMAXPROCS=1 start bare "${ON_PROXY_CPU[@]}" "$BIN/bareproxy" -listen "127.0.0.1:$BARE_PORT" -upstream "$FAKE" \
	-conns "$CONNS" -full-duplex
BARE_PID=$STARTED
BARE_PACED_PID=
BARE_PACED_URL=
if [[ -n $PACED ]]; then
	BARE_PACED_PORT=$(pick_port 18096)
	GOMAXPROCS=1 start bare-paced "${ON_PROXY_CPU[@]}" "$BIN/bareproxy" -listen "127.0.0.1:$BARE_PACED_PORT" \
		-upstream "$PACED" -conns "$CONNS" -full-duplex
	BARE_PACED_PID=$STARTED
	BARE_PACED_URL=http://127.0.0.1:$BARE_PACED_PORT$CHAT_PATH
fi
if wait_ready "http://127.0.0.1:$BARE_PORT$CHAT_PATH" "$BARE_PID" "$AUTH"; then
	measure bare "http://127.0.0.1:$BARE_PORT$CHAT_PATH" "$BARE_PACED_URL" "$AUTH"
else
	NOTE[bare]="did not answer with the fake's completion within 30 s (see logs/bare.log)"
fi
stop "$BARE_PID"
[[ -z $BARE_PACED_PID ]] || stop "$BARE_PACED_PID"

# portkey: one Node process, headless, on CPU 0; the provider headers point
# it at the fake (x-portkey-custom-host) and Authorization carries the
# provider key, which Portkey forwards. P points it at the paced fake.
if [[ -z ${NOTE[portkey]:-} ]]; then
	PORTKEY_PORT=$(pick_port 18093)
	start portkey "${ON_PROXY_CPU[@]}" node --require ./$PORTKEY_DIR/loopback.cjs \
		"$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js" --headless --port="$PORTKEY_PORT"
	PORTKEY_PID=$STARTED
	PK=http://127.0.0.1:$PORTKEY_PORT$CHAT_PATH
	if wait_ready "$PK" "$PORTKEY_PID" "x-portkey-provider: openai" "x-portkey-custom-host: $FAKE/v1" "$AUTH"; then
		# Portkey's URL is the same for both fakes; only the header differs,
		# so P runs as its own measurement with the paced fake's header.
		measure portkey "$PK" "" "x-portkey-provider: openai" "x-portkey-custom-host: $FAKE/v1" "$AUTH"
		if [[ -n $PACED ]]; then
			aiload_run portkey P "$PK" "$PACED_CONNS" -stream -chunks "$CHUNKS" -header "x-portkey-provider: openai" \
				-header "x-portkey-custom-host: $PACED/v1" -header "$AUTH"
		fi
	else
		NOTE[portkey]="did not answer with the fake's completion within 30 s (see logs/portkey.log)"
	fi
	stop "$PORTKEY_PID"
fi

# pinpoint: the AI endpoint on CPU 0 with what the issue asks to be on:
# API-key auth (one consumer key from bench/keygen), a model alias (fast →
# openai/gpt-4o-mini, so the body is edited), an access rule that meters
# tokens per minute and a daily budget (limits high enough never to
# refuse), and usage records with exact cost, in SQLite on the same core.
# The call log is off as in bench/run.sh's S1; the pinpointlog row has it
# on. The provider key reaches Pinpoint only as env:BENCH_PROVIDER_KEY.
if [[ -z ${NOTE[pinpoint]:-} ]]; then
	PP_PORT=$(pick_port 18094)
	PP_ADMIN=$(pick_port 18097)
	PP_DIR=$WORK/pinpoint
	mkdir -p "$PP_DIR"
	"$BIN/keygen" -n 1 -env live >"$PP_DIR/key"
	read -r PP_KEY_ID PP_KEY_SUM PP_KEY <"$PP_DIR/key"
	# pinpoint_ai_config FAKE_URL CALL_LOG: the gateway's config.
	pinpoint_ai_config() {
		cat <<EOF
version: 1
gateway:
  call_log: {enabled: $2}
listeners:
  - {name: public, kind: proxy, address: "127.0.0.1:$PP_PORT"}
  - {name: admin, kind: admin, address: "127.0.0.1:$PP_ADMIN"}
authenticators:
  - {name: keys, type: api_key}
consumers:
  - id: bench
    api_keys: [{id: $PP_KEY_ID, sha256: $PP_KEY_SUM}]
routes:
  - name: ai
    paths: ["/v1/*"]
    auth: {methods: [keys]}
    ai: {api: openai}
ai:
  providers:
    - {name: openai, kind: openai, base_url: "$1/v1", api_key: "env:BENCH_PROVIDER_KEY"}
  models:
    - name: fast
      targets: [{provider: openai, model: $MODEL}]
  access:
    - name: bench
      tokens_per_minute: 100000000000
      daily_budget_usd: "1000000"
EOF
	}
	PP_AUTH="Authorization: Bearer $PP_KEY"
	# run_pinpoint_ai NAME FAKE_URL [CALL_LOG]: starts the gateway in front of
	# FAKE_URL (sets PP_PID); the call log is off unless CALL_LOG is true.
	run_pinpoint_ai() {
		pinpoint_ai_config "$2" "${3:-false}" >"$PP_DIR/$1.yaml"
		sed -E 's/sha256: [0-9a-f]+/sha256: [redacted]/' "$PP_DIR/$1.yaml" >"$OUT/logs/$1.yaml"
		BENCH_PROVIDER_KEY=$API_KEY GOMAXPROCS=1 start "$1" "${ON_PROXY_CPU[@]}" "$BIN/pinpoint" serve \
			--config "$PP_DIR/$1.yaml" --data-dir "$PP_DIR/data-$1"
		PP_PID=$STARTED
	}
	sed "s/\"model\":\"$MODEL\"/\"model\":\"fast\"/" "$PLAIN_BODY" >"$WORK/plain-pp.json"
	sed "s/\"model\":\"$MODEL\"/\"model\":\"fast\"/" "$STREAM_BODY" >"$WORK/stream-pp.json"
	PP=http://127.0.0.1:$PP_PORT$CHAT_PATH
	run_pinpoint_ai pinpoint "$FAKE"
	if PLAIN_BODY=$WORK/plain-pp.json wait_ready "$PP" "$PP_PID" "$PP_AUTH"; then
		PLAIN_BODY=$WORK/plain-pp.json STREAM_BODY=$WORK/stream-pp.json RUN_MODEL=fast measure pinpoint "$PP" "" "$PP_AUTH"
		stop "$PP_PID"
		# The same with the call log on (one record per request, in SQLite on
		# the same core): what the default config costs.
		run_pinpoint_ai pinpoint-calllog "$FAKE" true
		if PLAIN_BODY=$WORK/plain-pp.json wait_ready "$PP" "$PP_PID" "$PP_AUTH"; then
			PLAIN_BODY=$WORK/plain-pp.json STREAM_BODY=$WORK/stream-pp.json RUN_MODEL=fast measure pinpointlog "$PP" "" "$PP_AUTH"
		else
			NOTE[pinpointlog]="did not answer within 30 s (see logs/pinpoint-calllog.log)"
		fi
		stop "$PP_PID"
		if [[ -n $PACED ]]; then
			run_pinpoint_ai pinpoint-paced "$PACED"
			if PLAIN_BODY=$WORK/plain-pp.json wait_ready "$PP" "$PP_PID" "$PP_AUTH"; then
				RUN_MODEL=fast aiload_run pinpoint P "$PP" "$PACED_CONNS" -stream -chunks "$CHUNKS" -header "$PP_AUTH"
			else
				NOTE[pinpoint.P]="did not answer within 30 s (see logs/pinpoint-paced.log)"
			fi
			stop "$PP_PID"
		fi
	else
		NOTE[pinpoint]="did not answer with the fake's completion within 30 s (see logs/pinpoint.log)"
		stop "$PP_PID"
	fi
	# The gateway prints a first-start admin token; results keep no secrets.
	sed -i -E 's/ppadm_[A-Za-z0-9_-]+/ppadm_[redacted]/g' "$OUT"/logs/pinpoint*.log
fi

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/environment.txt"

# ---------------------------------------------------------------- report
# ratio A B SCENARIO KEY: M[A.S.KEY] / M[B.S.KEY], or "—".
ratio() {
	local a=${M[$1.$3.$4]:-} b=${M[$2.$3.$4]:-}
	if [[ -z $a || -z $b ]]; then
		echo "—"
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "—" }'
}

# minus A B: A − B in ms to three decimals.
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; }

delay_ms() { # a Go duration (0, 5ms, 500us, 1s) in ms
	awk -v d="$1" 'BEGIN {
		n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
		if (u == "us" || u == "µs") n /= 1000; else if (u == "s") n *= 1000; else if (u == "ns") n /= 1e6
		printf "%.3f", n }'
}

TARGETS=("direct:direct to the fake (no proxy)" "pinpoint:pinpoint, AI endpoint" "pinpointlog:pinpoint, AI endpoint, call log on"
	"portkey:portkey gateway ${PORTKEY_VERSION:-}, headless"
	"bare:bare httputil.ReverseProxy")

# skipped LABEL COLUMNS WHY: a row that says why it has no numbers.
skipped() {
	local cols=$2
	printf '| %s | skipped: %s |' "$1" "$3"
	for ((i = 1; i < cols; i++)); do printf ' |'; done
	echo
}

{
	echo "# Pinpoint AI benchmark — $(date -u +%FT%TZ)"
	echo
	echo '```'
	cat "$OUT/environment.txt"
	echo '```'
	echo
	echo "Every target gets the same chat completion request (model \`$MODEL\`, two messages) from \`bench/ai/aiload\`"
	echo "over $CONNS keep-alive connections, closed-loop (each connection sends its next request when the reply"
	echo "is complete), for $DURATION after $WARMUP of warm-up. The targets forward to \`bench/ai/fakeopenai\`."
	echo "p50/p99 are latencies at saturation. \"bad\" counts failed requests, non-2xx replies and streams"
	echo "that did not carry $CHUNKS chunks and \`[DONE]\`; a row with any is not a valid measurement."
	echo
	echo "## N: non-streamed chat completion"
	echo
	echo "| target | req/s | p50 ms | p99 ms | × bare | proxy CPU % | load CPU % | bad |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for t in "${TARGETS[@]}"; do
		k=${t%%:*} label=${t#*:}
		if [[ -n ${M[$k.N.rps]:-} ]]; then
			printf '| %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$label" "${M[$k.N.rps]}" "${M[$k.N.p50_ms]}" \
				"${M[$k.N.p99_ms]}" "$(ratio "$k" bare N rps)" "${M[$k.N.cpu0]}" "${M[$k.N.cpu1]}" "${M[$k.N.bad]}"
		else
			skipped "$label" 7 "${NOTE[$k.N]:-${NOTE[$k]:-not run}}"
		fi
	done
	echo
	echo "## L: non-streamed chat completion at light load ($LIGHT_CONNS connections)"
	echo
	echo "The same request over $LIGHT_CONNS connections, so that the target is not saturated: \"added\" is the"
	echo "target's latency minus the latency with no proxy (direct), what a caller waits for the proxy itself."
	echo
	echo "| target | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | proxy CPU % | bad |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for t in "${TARGETS[@]}"; do
		k=${t%%:*} label=${t#*:}
		if [[ -n ${M[$k.L.rps]:-} ]]; then
			added50=— added99=—
			if [[ $k != direct && -n ${M[direct.L.p99_ms]:-} ]]; then
				added50=$(minus "${M[$k.L.p50_ms]}" "${M[direct.L.p50_ms]}")
				added99=$(minus "${M[$k.L.p99_ms]}" "${M[direct.L.p99_ms]}")
			fi
			printf '| %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$label" "${M[$k.L.rps]}" "${M[$k.L.p50_ms]}" \
				"${M[$k.L.p99_ms]}" "$added50" "$added99" "${M[$k.L.cpu0]}" "${M[$k.L.bad]}"
		else
			skipped "$label" 7 "${NOTE[$k.L]:-${NOTE[$k]:-not run}}"
		fi
	done
	echo
	echo "## S: streamed chat completion ($CHUNKS chunks, ${CHUNK_DELAY} between chunks)"
	echo
	echo "streams/s counts complete streams. TTFB is the time from sending the request to the first complete"
	echo "SSE event; the gap is the time between consecutive events of a stream as the client reads them"
	echo "(with no delay at the fake most events arrive together, so the gap here mostly says how the"
	echo "target batches; scenario P measures per-chunk delay)."
	echo
	echo "| target | streams/s | stream p50 ms | stream p99 ms | TTFB p50 ms | TTFB p99 ms | gap p50 ms | gap p99 ms | × bare | proxy CPU % | load CPU % | bad |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for t in "${TARGETS[@]}"; do
		k=${t%%:*} label=${t#*:}
		if [[ -n ${M[$k.S.rps]:-} ]]; then
			printf '| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${M[$k.S.rps]}" \
				"${M[$k.S.p50_ms]}" "${M[$k.S.p99_ms]}" "${M[$k.S.ttfb_p50_ms]}" "${M[$k.S.ttfb_p99_ms]}" \
				"${M[$k.S.gap_p50_ms]}" "${M[$k.S.gap_p99_ms]}" "$(ratio "$k" bare S rps)" "${M[$k.S.cpu0]}" \
				"${M[$k.S.cpu1]}" "${M[$k.S.bad]}"
		else
			skipped "$label" 11 "${NOTE[$k.S]:-${NOTE[$k]:-not run}}"
		fi
	done
	echo
	echo "## P: paced stream ($CHUNKS chunks, $PACED_DELAY before each, $PACED_CONNS connections)"
	echo
	if [[ -z $PACED ]]; then
		echo "Not run (PACED_DELAY=0)."
	else
		D=$(delay_ms "$PACED_DELAY")
		echo "The fake waits $PACED_DELAY before each content chunk, as a model generating tokens does, so each"
		echo "chunk arrives at the target on its own. A target that forwards each chunk at once shows gaps of"
		echo "about $PACED_DELAY; \"added\" is the target's gap minus the gap with no proxy (direct). TTFB includes"
		echo "nothing the fake waits for: its first event (the role) is sent before the first delay."
		echo
		echo "| target | streams/s | TTFB p50 ms | TTFB p99 ms | gap p50 ms | gap p99 ms | gap max ms | added gap p50 ms | added gap p99 ms | bad |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for t in "${TARGETS[@]}"; do
			k=${t%%:*} label=${t#*:}
			if [[ -n ${M[$k.P.rps]:-} ]]; then
				a50="—" a99="—"
				if [[ $k != direct && -n ${M[direct.P.gap_p50_ms]:-} ]]; then
					a50=$(minus "${M[$k.P.gap_p50_ms]}" "${M[direct.P.gap_p50_ms]}")
					a99=$(minus "${M[$k.P.gap_p99_ms]}" "${M[direct.P.gap_p99_ms]}")
				fi
				printf '| %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${M[$k.P.rps]}" \
					"${M[$k.P.ttfb_p50_ms]}" "${M[$k.P.ttfb_p99_ms]}" "${M[$k.P.gap_p50_ms]}" "${M[$k.P.gap_p99_ms]}" \
					"${M[$k.P.gap_max_ms]}" "$a50" "$a99" "${M[$k.P.bad]}"
			else
				skipped "$label" 9 "${NOTE[$k.P]:-${NOTE[$k]:-not run}}"
			fi
		done
		echo
		echo "(The fake's delay is $D ms per chunk.)"
	fi
	echo
	echo "## Issue 7's targets"
	echo
	echo "| ratio | target | N (non-streamed) | S (streamed) |"
	echo "|---|---|---:|---:|"
	echo "| pinpoint / portkey, req/s | ≥ 8 | $(ratio pinpoint portkey N rps) | $(ratio pinpoint portkey S rps) |"
	echo "| pinpoint / bare proxy, req/s | ≥ 0.6 | $(ratio pinpoint bare N rps) | $(ratio pinpoint bare S rps) |"
	echo "| pinpoint p99 / portkey p99 | ≤ 0.1 | $(ratio pinpoint portkey N p99_ms) | $(ratio pinpoint portkey S p99_ms) |"
	echo "| portkey / bare proxy, req/s | (reference) | $(ratio portkey bare N rps) | $(ratio portkey bare S rps) |"
	echo
	added=—
	if [[ -n ${M[pinpoint.L.p99_ms]:-} && -n ${M[direct.L.p99_ms]:-} ]]; then
		added=$(minus "${M[pinpoint.L.p99_ms]}" "${M[direct.L.p99_ms]}")
	fi
	chunk=—
	if [[ -n ${M[pinpoint.P.gap_p99_ms]:-} && -n ${M[direct.P.gap_p99_ms]:-} ]]; then
		chunk=$(minus "${M[pinpoint.P.gap_p99_ms]}" "${M[direct.P.gap_p99_ms]}")
	fi
	echo "| latency | target | measured |"
	echo "|---|---|---:|"
	echo "| pinpoint's added p99, non-streamed, light load (L), ms | ≤ 1 | $added |"
	echo "| pinpoint's added p99 gap per streamed chunk (P), ms | ≤ 1 | $chunk |"
	echo
	echo "What each target answered before it was measured (non-streamed status, streamed data events;"
	echo "a complete stream has $((CHUNKS + 4)) with the usage chunk):"
	echo
	for t in "${TARGETS[@]}"; do
		k=${t%%:*}
		[[ -n ${CHECK[$k.plain]:-} ]] || continue
		echo "- $k: non-streamed ${CHECK[$k.plain]}, streamed ${CHECK[$k.stream]} data events"
	done
	for t in "${TARGETS[@]}"; do
		k=${t%%:*}
		for sc in N S P; do
			if [[ -n ${M[$k.$sc.bad]:-} && ${M[$k.$sc.bad]} != 0 ]]; then
				echo
				echo "$k $sc had ${M[$k.$sc.bad]} bad requests (errors ${M[$k.$sc.errors]}, non-2xx ${M[$k.$sc.non_2xx]}," \
					"incomplete streams ${M[$k.$sc.incomplete]}; see raw/aiload-$k-$sc.err): not a valid measurement."
			fi
		done
	done
	echo
	echo "Raw aiload output: raw/. Process logs and what each target answered to one request of each kind: logs/."
} >"$OUT/table.md"

cat "$OUT/table.md"
log "results in $OUT"
