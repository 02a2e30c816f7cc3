#!/bin/sh
# bench/start.sh - what rbx costs to start: `rbx version`, `rbx lint FILE` and `rbx plan`
# timed against `ssh -V` in pairs (bench/start.py), then a one-step lab run's fixed cost.
# Usage: bench/start.sh [RUNS]   (default 200). Needs hyperfine (deps.sh bench).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-200}
rbx=${RBX_BIN:-$top/build/release/rbx}
# One command on a fresh clone: what the bench needs (Debian packages), then the build.
"$top/scripts/deps.sh" build bench && make -s -C "$top" rbx >/dev/null || exit 2
[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
work=$(mktemp -d "$top/build/bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RBX_STATE_DIR="$work/state" NO_COLOR=1 RBX_RUNBOOKS="$top/runbooks"

python3 "$top/bench/start.py" "$rbx" "$runs" "version" "lint $top/runbooks/gpu-fault.yaml" \
	"plan gpu-fault --node n42 --lab"

# A one-step run on a lab node, the guard and its proof included, journal on disk; and the
# same with no step at all but the proof, so the difference is one step and the rest fixed.
mk() { # mk NAME STEPS
	{
		printf 'name: %s\ntitle: bench\nsubsystem: gpu-hardware\nsummary: Benchmark.\n' "$1"
		printf 'trigger: {summary: bench}\nguard: {cordon: true, drain: true}\nprocedure:\n'
		i=1
		while [ "$i" -le "$2" ]; do printf '  - {name: s%d, ssh: "true", mutates: false}\n' "$i"; i=$((i + 1)); done
		printf 'verify:\n  - {name: proof, ssh: "true"}\nrollback:\n  - {name: none, ssh: "true"}\nreferences: [bench]\n'
	} > "$work/$1.yaml"
}
mk one 1
mk many 101
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
