#!/bin/sh
# bench/start.sh - what rbx costs to start: `rbx version`, `rbx lint FILE` and `rbx plan`
# timed against `ssh -V` in pairs (bench/start.py), then a one-step lab run's fixed cost.
# Usage: bench/start.sh [RUNS]   (default 200). Needs hyperfine (deps.sh bench).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-200}
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
bench_setup bench
export RBX_RUNBOOKS="$top/runbooks"

python3 "$top/bench/start.py" "$rbx" "$runs" "version" "lint $top/runbooks/gpu-fault.yaml" \
	"plan gpu-fault --node n42 --lab"

# A one-step run on a lab node, the guard and its proof included, journal on disk; and the
# same with no step at all but the proof, so the difference is one step and the rest fixed.
bench_runbook one 1 '"true"' '"true"'
bench_runbook many 101 '"true"' '"true"'
"$rbx" run "$work/one.yaml" --node b1 --lab --format json >/dev/null 2>&1
echo
hyperfine -N --warmup 3 --runs 30 --export-json "$work/h.json" \
	-n "rbx run, 1 step + proof (lab)" "$rbx run $work/one.yaml --node b1 --lab --format json" \
	-n "rbx run, 101 steps + proof (lab)" "$rbx run $work/many.yaml --node b1 --lab --format json" >/dev/null 2>&1
python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
one, many = r["rbx run, 1 step + proof (lab)"], r["rbx run, 101 steps + proof (lab)"]
step = (many - one) / 100
print("| lab run | median |\n|---|---:|")
print("| 1 step + proof | %.1f ms |" % one)
print("| 101 steps + proof | %.1f ms |" % many)
print("| one step (the difference / 100) | %.2f ms |" % step)
print("| fixed cost (1-step run - 2 steps) | %.1f ms |" % (one - 2 * step))
PY
