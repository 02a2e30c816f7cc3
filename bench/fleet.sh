#!/bin/sh
# bench/fleet.sh - what the fleet budget adds to a run: a one-step lab run with and
# without a slot from a real etcd on loopback (lease grant, txn, keep-alive, revoke).
# Usage: bench/fleet.sh [RUNS]   (default 30). Needs hyperfine and etcd (deps.sh bench check).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-30}
rbx="$top/build/release/rbx"
# One command on a fresh clone: what the bench needs (Debian packages), then the build.
"$top/scripts/deps.sh" build bench check && make -s -C "$top" rbx >/dev/null || exit 2
[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
command -v etcd >/dev/null || { echo "etcd is missing (etcd-server)" >&2; exit 2; }
work=$(mktemp -d "$top/build/bench.XXXXXX")
export RBX_STATE_DIR="$work/state" NO_COLOR=1
etcd --name bench --data-dir "$work/etcd" \
	--listen-client-urls http://127.0.0.1:23990 --advertise-client-urls http://127.0.0.1:23990 \
	--listen-peer-urls http://127.0.0.1:23991 --initial-advertise-peer-urls http://127.0.0.1:23991 \
	--initial-cluster bench=http://127.0.0.1:23991 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill $etcd_pid 2>/dev/null; wait $etcd_pid 2>/dev/null; rm -rf "$work"' EXIT
i=0
until python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:23990/health", timeout=1)' 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && { cat "$work/etcd.log"; exit 1; }; sleep 0.1
done

cat > "$work/one.yaml" <<'Y'
name: one
title: One step
subsystem: provisioning
summary: Benchmark.
trigger: {summary: bench}
guard: {cordon: true, drain: true}
procedure:
  - {name: step, ssh: "true", mutates: false}
verify:
  - {name: proof, ssh: "true"}
rollback:
  - {name: none, ssh: "true"}
references: [bench]
Y
printf 'defaults: {transport: lab}\nnodes:\n  - {match: b1, labels: {pool: p}}\n' > "$work/plain.yaml"
printf 'fleet: {etcd: "http://127.0.0.1:23990", ttl: 10s, budgets: {pool: 1}}\n' > "$work/fleet.yaml"
cat "$work/plain.yaml" >> "$work/fleet.yaml"

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
	-n "without a fleet budget" "$rbx run $work/one.yaml --node b1 --inventory $work/plain.yaml --format json" \
	-n "with a fleet slot" "$rbx run $work/one.yaml --node b1 --inventory $work/fleet.yaml --format json" >/dev/null

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x['command']: x['median'] * 1000 for x in json.load(open(sys.argv[1]))['results']}
a, b = r['without a fleet budget'], r['with a fleet slot']
print("| run of a one-step runbook (lab, journal on) | median |")
print("|---|---|")
print(f"| without a fleet budget | {a:.1f} ms |")
print(f"| with a fleet slot in etcd on loopback (grant, txn, revoke) | {b:.1f} ms |")
print(f"\nthe fleet budget adds {b - a:.1f} ms to a run")
PY
