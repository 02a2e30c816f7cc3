#!/bin/sh
# bench/memory.sh - peak memory: lab runs of 50, 500 and 5000 steps (each printing 8 KiB),
# and a roll over 200 lab nodes 32 at a time (the roll's parent, its largest child, and
# the whole process tree at its peak, sampled by bench/peak.py).
# Usage: bench/memory.sh. Needs GNU time (/usr/bin/time, deps.sh bench).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
bench_setup bench
export RBX_RUNBOOKS="$work"

mk() { # mk NAME STEPS: each step prints 8 KiB
	bench_runbook "$1" "$2" "\"printf '%8192s' x\"" 'nvidia-smi -L'
}
# Beside each run, `rbx lint` of the same runbook: what loading it costs alone, so the
# difference is what the run itself holds.
echo "| what | peak RSS | \`rbx lint\` of the same runbook |"
echo "|---|---:|---:|"
for n in 50 500 5000; do
	mk "steps$n" "$n"
	/usr/bin/time -f '%M' -o "$work/rss" "$rbx" run "steps$n" --node "m$n" --lab >/dev/null 2>&1
	/usr/bin/time -f '%M' -o "$work/lint" "$rbx" lint "steps$n" >/dev/null 2>&1
	echo "| a lab run of $n steps, each printing 8 KiB (journal $(du -k "$RBX_STATE_DIR"/runs/*-m"$n"-*.jsonl | cut -f1) KiB) | $(awk '{printf "%.1f MB", $1 / 1024}' "$work/rss") | $(awk '{printf "%.1f MB", $1 / 1024}' "$work/lint") |"
done
mk look 5
"$rbx" roll look --nodes 'r[001-200]' --batch 32 --lab --yes >/dev/null 2>&1 # nodes made
rm -rf "$RBX_STATE_DIR/runs" "$RBX_STATE_DIR/rolls"
/usr/bin/time -f '%M' -o "$work/rss" python3 "$top/bench/peak.py" "$rbx" roll look --nodes 'r[001-200]' \
	--batch 32 --lab --yes > "$work/peak"
read -r secs total single rc < "$work/peak"
[ "$rc" = 0 ] || { echo "bench/memory.sh: the roll failed" >&2; exit 1; }
echo "| a roll over 200 lab nodes, 32 at a time: the whole tree at its peak | $(awk -v k="$total" 'BEGIN {printf "%.1f MB", k / 1024}') | |"
echo "| ...its largest process | $(awk -v k="$single" 'BEGIN {printf "%.1f MB", k / 1024}') | |"
echo "| ...(the roll took $secs s) | | |"
