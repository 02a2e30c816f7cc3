# tests/integration/lib.sh - helpers for shell tests of the real rbx binary.
# Each test gets a private state dir; results are counted for tests/run.sh.
set -u
: "${RBX:?RBX must name the rbx binary}"
: "${TOP:?}"
: "${COUNTS:=/dev/null}"
T_PASS=0
T_FAIL=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rbx-test.XXXXXX")
export RBX_STATE_DIR="$WORK/state"
export RBX_RUNBOOKS="$TOP/runbooks"
export NO_COLOR=1
cd "$WORK" || exit 1
trap 'finish' EXIT

finish() {
	echo "$T_PASS $T_FAIL" >"$COUNTS"
	rm -rf "$WORK"
}

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# check TITLE CMD...: the command (a shell snippet) must exit 0.
check() {
	title=$1
	shift
	if out=$(eval "$*" 2>&1); then ok "$title"; else not_ok "$title" "command: $*" "$(printf '%s' "$out" | tail -n 15)"; fi
}

# run_rbx EXPECTED_EXIT ARGS...: runs rbx, keeps stdout in $OUT and stderr in $ERR.
run_rbx() {
	want=$1
	shift
	"$RBX" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	RC=$?
	# shellcheck disable=SC2034 # OUT and ERR are for the tests that source this file
	OUT=$(cat "$WORK/out")
	# shellcheck disable=SC2034
	ERR=$(cat "$WORK/err")
	[ "$RC" -eq "$want" ]
}

# expect_exit TITLE EXPECTED ARGS...
expect_exit() {
	title=$1
	want=$2
	shift 2
	if run_rbx "$want" "$@"; then
		ok "$title"
	else
		not_ok "$title" "rbx $* exited $RC, wanted $want" "stdout: $(tail -n 8 "$WORK/out")" "stderr: $(tail -n 8 "$WORK/err")"
	fi
}

contains() { printf '%s' "$1" | grep -q -e "$2"; }

lab_state() { "$RBX" lab show "$1" --format json; }
sched_field() { lab_state "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['sched']['$2'])"; }

# wait_for PATTERN FILE: until a line of FILE matches PATTERN (grep's), 30 s at most;
# 1 if it never came. For a process started in the background to reach a point.
wait_for() {
	_i=0
	until grep -qs -e "$1" "$2"; do
		_i=$((_i + 1))
		[ $_i -gt 300 ] && return 1
		sleep 0.1
	done
}

# journal_ids PATTERN [DIR]: the ids of the journals in DIR (default $RBX_STATE_DIR/runs)
# whose names hold PATTERN, in order, one a line (a glob, not ls | grep).
journal_ids() {
	for _f in "${2:-$RBX_STATE_DIR/runs}"/*"$1"*.jsonl; do
		[ -e "$_f" ] && basename "$_f" .jsonl
	done
}

# serve_start ARGS...: rbx serve on a free loopback port (port 0: it prints the one the
# kernel gave, so no test races another for a fixed port), its output in serve.log; sets
# SPID and URL and returns once it answers. At exit it stops the server (serve_stop)
# and kills $SERVE_ALSO.
serve_start() {
	# Gone first: the background job truncates serve.log only once it runs, and until
	# then the loop below would read the last server's address (t0650 did, under load).
	rm -f serve.log
	"$RBX" serve --listen 127.0.0.1:0 "$@" > serve.log 2>&1 &
	SPID=$!
	trap 'serve_stop; [ -z "${SERVE_ALSO:-}" ] || { kill $SERVE_ALSO; wait $SERVE_ALSO; } 2>/dev/null; finish' EXIT
	URL=
	_i=0
	# Up to 30 s: a loaded CI machine (two builds, fuzzers) can be slow to start it.
	while [ -z "$URL" ] && [ $_i -lt 600 ]; do
		URL=$(sed -n 's|^rbx serve: \(https*://[^/]*\)/.*|\1|p' serve.log 2>/dev/null)
		_i=$((_i + 1))
		[ -n "$URL" ] || sleep 0.05
	done
	if [ -z "$URL" ] || ! curl -sk -o /dev/null --max-time 10 "$URL/healthz"; then
		not_ok "rbx serve started and answers at '$URL'" "$(tail -n 20 serve.log)"
	fi
}

# share_pick: the lines of stdin that are this build's share of a sweep. .ci/run runs
# the suite twice (release, then ASan+UBSan) with SHARE=1/2 and SHARE=2/2: the long
# sweeps split their cases between the two builds instead of running each twice.
# Without SHARE (make check alone) every line is kept. share_pick 1 takes the next
# build's share instead: two sweeps over the same cases, one with each, run every case
# once in each build.
share_pick() {
	awk -v s="${SHARE:-1/1}" -v o="${1:-0}" 'BEGIN {split(s, a, "/")} (NR - 1) % a[2] == (a[1] - 1 + o) % a[2]'
}

# test_port SERVICE: a loopback port for one of the real servers a test starts. Each
# service has its own block of 2000 below Linux's ephemeral range (32768 up), so no
# outgoing connection and no other kind of server can hold it; within a block the
# test's pid picks (two ports, even and odd, for slurm and etcd).
test_port() {
	case $1 in
	sshd) echo $((10000 + $$ % 2000)) ;;
	slurm) echo $((12000 + ($$ % 1000) * 2)) ;;
	etcd) echo $((14000 + ($$ % 1000) * 2)) ;;
	k8s) echo $((16000 + $$ % 2000)) ;;
	alertmanager) echo $((18000 + $$ % 2000)) ;;
	*) echo "test_port: no block for '$1'" >&2; return 1 ;;
	esac
}

# am_start: a real Alertmanager on loopback with a
# receiver named rbx (port: test_port alertmanager); sets P, AM and AMPID, stops it at
# exit, and returns once it is ready.
# Returns 1 (having said why) where prometheus-alertmanager is not installed.
am_start() {
	if ! command -v prometheus-alertmanager >/dev/null; then
		not_ok "prometheus-alertmanager is needed (scripts/deps.sh check installs it)"
		return 1
	fi
	P=$(test_port alertmanager)
	AM="http://127.0.0.1:$P"
	printf 'route: {receiver: rbx}\nreceivers: [{name: rbx}]\n' > am.yml
	prometheus-alertmanager --config.file=am.yml --storage.path="$WORK/am" \
		--web.listen-address="127.0.0.1:$P" --cluster.listen-address= > am.log 2>&1 &
	AMPID=$!
	trap 'kill $AMPID 2>/dev/null; wait $AMPID 2>/dev/null; finish' EXIT
	_i=0
	until curl -sf "$AM/-/ready" >/dev/null; do _i=$((_i + 1)); [ $_i -gt 100 ] && break; sleep 0.1; done
}

# serve_stop: stops the rbx serve of $SPID with SIGTERM and checks it exits 0 with nothing
# leaked (under SANITIZE=1, LeakSanitizer reports at that exit, into serve.log).
serve_stop() {
	[ -n "${SPID:-}" ] || return 0
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID"
	_src=$?
	SPID=
	check "rbx serve stops on SIGTERM with exit 0, nothing leaked ($_src)" \
		"[ $_src -eq 0 ] && ! grep -q LeakSanitizer serve.log || { tail -n 30 serve.log; false; }"
}
