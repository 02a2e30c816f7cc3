#!/bin/sh
# bench/steps.sh - per-step cost of rbx running N trivial steps on the lab node,
# journal on, against a plain sh loop running the same commands, in one run.
# Usage: bench/steps.sh [N] [RUNS]   (defaults 500 and 10). Needs hyperfine.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-500}
runs=${2:-10}
# shellcheck source=bench/common.sh
. "$top/bench/common.sh"
bench_setup bench

bench_runbook steps1 1 '"true"' '"true"'
bench_runbook stepsn "$n" '"true"' '"true"'
cat > "$work/loop1.sh" <<EOS
sh -c true
EOS
: > "$work/loopn.sh"
i=1
while [ "$i" -le "$n" ]; do echo 'sh -c true' >> "$work/loopn.sh"; i=$((i + 1)); done

hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" \
	-n "rbx 1 step" "$rbx run $work/steps1.yaml --node b1 --lab --format json" \
	-n "rbx $n steps" "$rbx run $work/stepsn.yaml --node b1 --lab --format json" \
	-n "sh 1 command" "sh $work/loop1.sh" \
	-n "sh $n commands" "sh $work/loopn.sh" >/dev/null

python3 - "$work/h.json" "$n" <<'PY'
import json, sys
r = {x['command']: x for x in json.load(open(sys.argv[1]))['results']}
n = int(sys.argv[2])
def ms(name): return r[name]['median'] * 1000
rbx1, rbxn = ms('rbx 1 step'), ms(f'rbx {n} steps')
sh1, shn = ms('sh 1 command'), ms(f'sh {n} commands')
per_rbx = (rbxn - rbx1) / (n - 1)
per_sh = (shn - sh1) / (n - 1)
print(f"| what | whole run (median) | per step |")
print(f"|---|---|---|")
print(f"| rbx, lab, {n} steps, journal on (read-only steps: written, not synced) | {rbxn:.0f} ms | {per_rbx:.3f} ms |")
print(f"| plain sh loop, {n} x `sh -c true` | {shn:.0f} ms | {per_sh:.3f} ms |")
print(f"| rbx fixed cost (1-step run) | {rbx1:.1f} ms | |")
print(f"\nrbx costs {per_rbx / per_sh:.2f}x a bare fork+exec of sh per step "
      f"(+{per_rbx - per_sh:.3f} ms: two journal records, the Landlock confinement, output capture).")
PY
