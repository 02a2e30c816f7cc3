#!/bin/sh
# tests/run.sh - runs the cmocka unit tests given as arguments, then every
# tests/integration/t*.sh, and ends with the line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/tests/out"
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0

for bin in "$@"; do
	name=$(basename "$bin")
	log="$out/$name.log"
	"$bin" >"$log" 2>&1
	rc=$?
	ok=$(grep -c '^\[       OK \]' "$log")
	bad=$(grep -c '^\[  FAILED  \]' "$log")
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

for t in "$top"/tests/integration/t*.sh; do
	name=$(basename "$t" .sh)
	log="$out/$name.log"
	counts="$out/$name.counts"
	RBX="$top/rbx" TOP="$top" COUNTS="$counts" sh "$t" >"$log" 2>&1
	rc=$?
	p=0 f=0
	[ -f "$counts" ] && read -r p f <"$counts"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -eq 0 ]; then
		echo "PASS $name ($p)"
	else
		echo "FAIL $name (see $log)"
		grep -E '^(not ok|#)' "$log" | head -40
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
