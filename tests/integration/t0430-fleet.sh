# t0430-fleet: the fleet's maintenance budget in a real etcd on loopback: two runs
# racing for one slot, a holder killed with kill -9, a lease lost mid-run, etcd frozen
# and etcd killed mid-run.
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/etcd.sh"

# Not under check: that runs in a subshell, and etcd must outlive it.
if etcd_start; then ok "etcd starts on loopback"; else not_ok "etcd starts on loopback"; exit 1; fi
cat > hold.yaml <<'Y'
name: hold
title: Hold the node a while
subsystem: provisioning
summary: Keeps the node out of service for a given time.
trigger: {summary: test}
params:
  secs: {description: how long, default: '2', pattern: '^[0-9]+$'}
guard: {cordon: true, drain: true}
procedure:
  - name: work on the node
    ssh: sleep {{params.secs}}
    timeout: 5m
verify:
  - {name: v, ssh: nvidia-smi -L}
rollback:
  - {name: r, ssh: nvidia-smi -L}
references: [https://example.invalid]
Y
cat > inv.yaml <<Y
fleet:
  etcd: $ETCD
  ttl: 2s
  budgets: {pool: 1}
defaults: {transport: lab}
nodes:
  - {match: 'f[1-3]', labels: {pool: p1}}
  - {match: 'g1', labels: {pool: p2}}
Y
export RBX_INVENTORY="$WORK/inv.yaml"
slots=/rbx/budget/pool=p1/
expect_exit "rbx nodes shows each node's budget" 0 nodes f1
check "(pool=p1, at most 1)" "contains \"\$OUT\" 'budget pool=p1<=1'"
expect_exit "rbx plan shows the slot a run will take" 0 plan "$WORK/hold.yaml" --node f1
check "(the budget, its limit and its keys)" "contains \"\$OUT\" 'pool=p1: at most 1 at once (/rbx/budget/pool=p1/slot-N)'"

expect_exit "a run takes a slot and gives it back" 0 run "$WORK/hold.yaml" --node f1 --param secs=0
check "the journal records the slot" "grep -q '\"type\":\"fleet\",\"op\":\"acquired\".*pool=p1/slot-0' \"$RBX_STATE_DIR\"/runs/*f1*.jsonl"
check "and the slot is free again" "[ \$(etcd_count $slots) -eq 0 ]"

# Two runs race for a limit of 1 and do not wait: one runs, one is refused.
"$RBX" run "$WORK/hold.yaml" --node f1 --fleet-wait 0 >a.out 2>a.err &
pa=$!
"$RBX" run "$WORK/hold.yaml" --node f2 --fleet-wait 0 >b.out 2>b.err &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
check "racing for one slot: one run succeeds, one exits 5 ($ra, $rb)" "[ \$(( ($ra == 0 && $rb == 5) || ($ra == 5 && $rb == 0) )) -eq 1 ]"
check "the refused one names who holds the slot" "grep -q 'no maintenance slot free for pool=p1 (at most 1 at once): held by run .* on node f' a.err b.err"
check "the refused node was never cordoned" "[ \"\$(sched_field f1 cordoned)\" = False ] && [ \"\$(sched_field f2 cordoned)\" = False ]"
expect_exit "another pool has its own budget" 0 run "$WORK/hold.yaml" --node g1 --param secs=0

# One waits for the other: never two nodes of the pool out at once.
"$RBX" run "$WORK/hold.yaml" --node f1 --format json >a.out 2>a.err &
pa=$!
wait_for '"type":"fleet"' a.out
"$RBX" run "$WORK/hold.yaml" --node f2 --format json >b.out 2>b.err
rb=$?
wait $pa; ra=$?
check "the second run waited and then succeeded ($ra, $rb)" "[ $ra -eq 0 ] && [ $rb -eq 0 ]"
check "while waiting it said who holds the slot" "grep -q 'waiting for a maintenance slot: pool=p1 (at most 1 at once): held by run .* on node f1' b.err"
check "it began only after the first had ended" "python3 -c '
import json,sys
a=[json.loads(l) for l in open(\"a.out\")]; b=[json.loads(l) for l in open(\"b.out\")]
end=[r for r in a if r[\"type\"]==\"run_end\"][0][\"ts\"]; start=b[0][\"ts\"]
sys.exit(0 if start > end else 1)'"

# A holder killed with kill -9: its slot frees itself when the lease runs out.
: > a.out
"$RBX" run "$WORK/hold.yaml" --node f1 --param secs=60 >a.out 2>&1 &
pa=$!
wait_for 'work on the node' a.out
kill -9 $pa; wait $pa 2>/dev/null
pkill -f '^sleep 60$'
expect_exit "right after the kill the slot is still held (exit 5)" 5 run "$WORK/hold.yaml" --node f2 --fleet-wait 0 --param secs=0
t0=$(date +%s%N)
expect_exit "waiting, the slot frees within the 2 s TTL and the run goes on" 0 run "$WORK/hold.yaml" --node f2 --fleet-wait 20s --param secs=0
check "(it waited for the TTL, not forever: $(( ($(date +%s%N) - t0) / 1000000 )) ms)" "[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 15000 ]"
id=$(journal_ids -f1- | tail -n 1)
expect_exit "the killed run resumes, taking a slot again" 0 resume "$id" --assume-done
check "and its node is back in service" "[ \"\$(sched_field f1 cordoned)\" = False ]"

# The lease lost mid-run: rbx stops changing the node, journals it, says so.
: > a.out # emptied here: the child truncates it only once it runs, and grep must not see the last run
"$RBX" run "$WORK/hold.yaml" --node f3 --param secs=60 >a.out 2>&1 &
pa=$!
wait_for 'work on the node' a.out
id=$(journal_ids -f3-)
lease=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][1]["slots"]["lease"])' "$RBX_STATE_DIR/runs/$id.jsonl")
check "the lease is revoked behind rbx's back" "etcd_call /v3/lease/revoke '{\"ID\":\"$lease\"}'"
wait $pa; ra=$?
check "the run stops with exit 130 ($ra)" "[ $ra -eq 130 ]"
check "it says the lease was lost" "grep -q 'fleet lease was lost' a.out"
check "its plain output named the slot it held, and the loss" "grep -q 'fleet slot /rbx/budget/pool=p1/slot-[0-9]* held (lease ' a.out && grep -q 'fleet lost: ' a.out"
check "the journal records it" "grep -q '\"type\":\"fleet\",\"op\":\"lost\"' '$RBX_STATE_DIR/runs/$id.jsonl'"
check "the step was ended, not left running" "sleep 0.3; ! pgrep -f '^sleep 60\$'"
check "the node stays cordoned" "[ \"\$(sched_field f3 cordoned)\" = True ]"

# etcd frozen mid-run (SIGSTOP: calls hang, as with a partition): rbx must stop while
# etcd still holds its slot, that is within the TTL (4 s) of the last renewal.
sed 's/ttl: 2s/ttl: 4s/' inv.yaml > ttl4.yaml
: > b.out # as a.out above: b.out still holds an earlier run's 'work on the node'
"$RBX" run "$WORK/hold.yaml" --node g1 --inventory "$WORK/ttl4.yaml" --param secs=60 >b.out 2>&1 &
pb=$!
wait_for 'work on the node' b.out
kill -STOP "$ETCD_PID"
t0=$(date +%s%N)
wait $pb; rb=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT "$ETCD_PID"
check "etcd frozen: the run stops with exit 130 ($rb)" "[ $rb -eq 130 ] || { tail -n 12 b.out; false; }"
check "before the 4 s TTL could hand its slot to another run (${ms} ms)" "[ $ms -lt 4000 ]"

# etcd killed mid-run (kill -9: calls are refused at once, unlike the freeze above): the
# run stops, the node stays cordoned, and once etcd is back a resume takes a slot again.
: > b.out
"$RBX" run "$WORK/hold.yaml" --node f2 --inventory "$WORK/ttl4.yaml" --param secs=60 >b.out 2>&1 &
pb=$!
wait_for 'work on the node' b.out
id=$(journal_ids -f2- | tail -n 1)
kill -9 "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null; ETCD_PID=
t0=$(date +%s%N)
wait $pb; rb=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "etcd killed: the run stops with exit 130 ($rb)" "[ $rb -eq 130 ] || { tail -n 12 b.out; false; }"
check "within the 4 s TTL (${ms} ms), saying the lease was lost" "[ $ms -lt 4000 ] && grep -q 'fleet lease was lost' b.out"
check "the step was ended and the node stays cordoned" "sleep 0.3; ! pgrep -f '^sleep 60\$' && [ \"\$(sched_field f2 cordoned)\" = True ]"
if etcd_start; then ok "etcd restarts on its data"; else not_ok "etcd restarts on its data"; fi
expect_exit "the killed-etcd run resumes and finishes once etcd is back" 0 resume "$id" --assume-done --fleet-wait 20s
check "it took a slot again, and the node is back in service" \
	"[ \$(grep -c '\"type\":\"fleet\",\"op\":\"acquired\"' '$RBX_STATE_DIR/runs/$id.jsonl') -eq 2 ] && [ \"\$(sched_field f2 cordoned)\" = False ]"

# etcd unreachable: no run without the budget.
sed "s#$ETCD#http://127.0.0.1:9#" inv.yaml > dead.yaml
expect_exit "etcd unreachable: the run is refused, exit 3" 3 run "$WORK/hold.yaml" --node f2 --inventory "$WORK/dead.yaml" --param secs=0
check "(it says why)" "contains \"\$ERR\" 'etcd at http://127.0.0.1:9' && contains \"\$ERR\" 'nothing was changed'"
printf 'fleet:\n  etcd: 127.0.0.1:2379\n  budgets: {pool: 0}\nnodes:\n  - {match: x}\n' > bad.yaml
expect_exit "a bad fleet section is an inventory error" 2 nodes --inventory "$WORK/bad.yaml"
check "(file:line:col for each)" "contains \"\$ERR\" 'bad.yaml:2:9: error: etcd' && contains \"\$ERR\" 'bad.yaml:3:19: error: a budget'"
