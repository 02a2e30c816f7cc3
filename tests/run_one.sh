#!/bin/sh
# tests/run_one.sh - runs one integration script for tests/run.sh (which may run
# several at once): its log, counts and seconds go to tests/out/<name>.*.
set -u
t=$1
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/tests/out"
name=$(basename "$t" .sh)
log="$out/$name.log"
counts="$out/$name.counts"
start=$(date +%s)
RBX="$top/rbx" RBX_HOOKS="$top/${BUILD:-build/release}/rbx-test" TOP="$top" COUNTS="$counts" sh "$t" >"$log" 2>&1 </dev/null
rc=$?
secs=$(($(date +%s) - start))
p=0 f=0
[ -f "$counts" ] && read -r p f <"$counts"
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "$p $f $secs" >"$out/$name.result"
if [ "$f" -eq 0 ]; then
	echo "PASS $name ($p) ${secs}s"
else
	echo "FAIL $name (see $log) ${secs}s"
	grep -E '^(not ok|#)' "$log" | head -40
fi
