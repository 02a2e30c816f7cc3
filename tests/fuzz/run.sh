#!/bin/sh
# tests/fuzz/run.sh - runs each named libFuzzer harness (build/fuzz/fuzz_NAME): first every
# input kept from a crash (tests/fuzz/regress/NAME), then FUZZ_SECONDS of fuzzing over its
# corpus (build/fuzz/corpus/NAME, grown run by run) seeded from tests/fuzz/seeds/NAME and
# the files rbx reads for real. FUZZ_JOBS harnesses at a time. A crash stops with its input
# saved under build/fuzz/crashes/; copy it into regress/ once fixed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-10}
jobs=${FUZZ_JOBS:-1}
out="$top/build/fuzz"
mkdir -p "$out/crashes" "$out/tmp" "$out/logs"
export RBX_RUNBOOKS="$top/runbooks" RBX_FUZZ_RUNBOOK="$top/runbooks/gpu-fault.yaml"
export TMPDIR="$out/tmp" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

# The real inputs each harness starts from, beside its own seeds.
extra() {
	case "$1" in
	runbook) echo "$top/runbooks $top/examples/runbooks $top/runbooks/tests" ;;
	alert | serve) echo "$top/tests/fixtures/alertmanager" ;;
	*) ;;
	esac
}

one() {
	name=$1
	bin="$out/fuzz_$name"
	corpus="$out/corpus/$name"
	log="$out/logs/$name.log"
	mkdir -p "$corpus"
	if [ -d "$top/tests/fuzz/regress/$name" ] && [ -n "$(ls "$top/tests/fuzz/regress/$name")" ]; then
		if ! "$bin" "$top/tests/fuzz/regress/$name"/* >"$log.regress" 2>&1; then
			echo "FAIL fuzz_$name: a kept crash input fails again (see $log.regress)"
			return 1
		fi
	fi
	# shellcheck disable=SC2046
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/crashes/$name-" \
		"$corpus" "$top/tests/fuzz/seeds/$name" $(extra "$name") >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL fuzz_$name: exit $rc after ${runs:-?} runs (see $log)"
		grep -m 5 -E 'ERROR|SUMMARY|Test unit written' "$log"
		return 1
	fi
	echo "PASS fuzz_$name: ${runs:-?} runs in ${secs}s, coverage ${cov:-?} edges, corpus $(ls "$corpus" | wc -l), no crash"
}

if [ "${1:-}" = --one ]; then
	one "$2"
	exit $?
fi
printf '%s\n' "$@" | xargs -n 1 -P "$jobs" sh "$0" --one
