# bench/lib.sh: what the benchmark scripts share. Each script sources it
# after setting OUT (logs go to $OUT/logs/NAME.log), and defines its own
# log() and cleanup (which calls stop_all) before it starts anything.

# ---------------------------------------------------------------- processes
# Every process a script starts is recorded in PIDS and stopped on exit,
# whether the run finished, failed or was interrupted.
PIDS=()

# stop_pid PID: TERM, then KILL after 5 s.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# stop_all: stops every process still recorded (for cleanup).
stop_all() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
}

# forget PID...: drops the PIDs from the processes cleanup stops.
forget() {
	local keep=() p
	for p in "${PIDS[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# start NAME CMD...: runs CMD in the background, logging to logs/NAME.log;
# sets STARTED to its pid.
start() {
	local name=$1
	shift
	"$@" >"$OUT/logs/$name.log" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}

# stop PID: stops one process started by start.
stop() {
	stop_pid "$1"
	forget "$1"
}

# run_fg CMD...: runs CMD to completion like a foreground command, but in the
# background with wait, so that Ctrl-C or TERM reach the trap at once (bash
# defers traps until a foreground command ends) and cleanup stops CMD too.
run_fg() {
	local pid rc=0
	"$@" &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	forget "$pid"
	return "$rc"
}

# ---------------------------------------------------------------- machine
# pin_cpus: the proxy under test gets CPU 0 to itself, the backend and the
# load CPU 1: sets ON_PROXY_CPU and ON_LOAD_CPU (taskset prefixes) and
# PINNED. Without 2 CPUs or taskset they are empty, PINNED=no, and it
# returns 1 so that the script can warn.
pin_cpus() {
	if command -v taskset >/dev/null && (($(nproc) >= 2)); then
		ON_PROXY_CPU=(taskset -c 0)
		ON_LOAD_CPU=(taskset -c 1)
		PINNED=yes
		return 0
	fi
	ON_PROXY_CPU=()
	ON_LOAD_CPU=()
	PINNED=no
	return 1
}

# cpu_ticks N: "idle total" jiffies of CPU N so far, from /proc/stat.
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# busy "IDLE0 TOTAL0" "IDLE1 TOTAL1": percent of the interval the CPU was busy.
busy() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " "); t = y[2] - x[2]
		if (t > 0) printf "%.0f", 100 * (1 - (y[1] - x[1]) / t); else print "?" }'
}

# check_load: sets LOAD_BEFORE and warns when other work on the machine
# will skew every number.
check_load() {
	LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
	if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 0.5) }'; then
		log "WARNING: load average is $LOAD_BEFORE before the run; other work on this machine will skew the numbers"
	fi
}

# pick_port BASE: the first port from BASE up that nothing listens on and
# this script has not picked before.
USED_PORTS=" "
pick_port() {
	local p=$1
	while [[ $USED_PORTS == *" $p "* ]] || (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; do
		((p++))
	done
	USED_PORTS+="$p "
	echo "$p"
}
