#!/bin/sh
# tests/run.sh - runs the cmocka unit tests given as arguments, then every
# tests/integration/t*.sh, JOBS at a time, and ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/tests/out"
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
# Integration tests mostly wait on servers, timers and child processes, so more
# of them than cores keeps the cores busy. Each has its own state dir and ports.
jobs=${JOBS:-$(($(nproc) * 2))}

for bin in "$@"; do
	name=$(basename "$bin")
	log="$out/$name.log"
	"$bin" >"$log" 2>&1
	rc=$?
	ok=$(grep -c '^\[       OK \]' "$log")
	# cmocka repeats failed names in its summary; count each test once.
	bad=$(grep '^\[  FAILED  \] ' "$log" | grep -v 'test(s)' | sort -u | wc -l)
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name ($ok)"
	else
		echo "FAIL $name (see $log)"
		sed -n '1,60p' "$log"
	fi
done

# The longest first (tests/slow lists them), so the tail of the run stays short.
ls "$top"/tests/integration/t*.sh | sort >"$out/all"
grep -v '^#' "$top/tests/slow" | sed "s#^#$top/tests/integration/#" >"$out/first"
{ grep -Fx -f "$out/all" "$out/first"; grep -Fxv -f "$out/first" "$out/all"; } |
	xargs -n 1 -P "$jobs" sh "$top/tests/run_one.sh"

for t in $(cat "$out/all"); do
	name=$(basename "$t" .sh)
	p=0 f=1
	[ -f "$out/$name.result" ] && read -r p f _ <"$out/$name.result"
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
