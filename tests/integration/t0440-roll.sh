# t0440-roll: rbx roll over lab nodes: batches, a failure that stops the roll,
# --max-failures, the summary table, and a roll interrupted then resumed.
. "$TOP/tests/integration/lib.sh"

for n in 1 2 3 4; do "$RBX" lab inject "w$n" xid=48 gpu=3 >/dev/null; done
expect_exit "a roll of gpu-fault over four nodes, two at a time" 0 roll gpu-fault --nodes 'w[1-4]' --batch 2 --lab
check "in two batches" "contains \"\$OUT\" '== batch 1: w1 w2' && contains \"\$OUT\" '== batch 2: w3 w4'"
check "a summary row per node: state, run id, duration" "for n in 1 2 3 4; do printf '%s\n' \"\$OUT\" | grep -qE \"^w\$n +SUCCEEDED +[0-9]{8}T[0-9]{6}Z-w\$n-[0-9a-f]{6} +[0-9]\" || exit 1; done"
check "each node's run has its own journal" "[ \$(ls '$RBX_STATE_DIR/runs' | wc -l) -eq 4 ]"
check "never more than a batch out at once: batch 2 began after batch 1 ended" "python3 - '$RBX_STATE_DIR/runs' <<'P'
import json, os, sys
d = sys.argv[1]
runs = {}
for f in os.listdir(d):
    recs = [json.loads(l) for l in open(os.path.join(d, f))]
    runs[recs[0]['node']] = (recs[0]['ts'], recs[-1]['ts'])
assert max(runs['w1'][1], runs['w2'][1]) < min(runs['w3'][0], runs['w4'][0]), runs
P"
check "every node is back in service" "for n in 1 2 3 4; do [ \"\$(sched_field w\$n cordoned)\" = False ] || exit 1; done"

rm -rf "$RBX_STATE_DIR"
for n in 1 2 3 4; do "$RBX" lab inject "v$n" xid=48 gpu=3 >/dev/null; done
"$RBX" lab inject v2 dcgm=fail >/dev/null
expect_exit "a failure stops the roll (default --max-failures 0): exit 1" 1 roll gpu-fault --nodes 'v[1-4]' --lab
check "v1 succeeded, v2 failed, v3 and v4 never started" "printf '%s\n' \"\$OUT\" | grep -qE '^v1 +SUCCEEDED' && printf '%s\n' \"\$OUT\" | grep -qE '^v2 +FAILED' && printf '%s\n' \"\$OUT\" | grep -qE '^v3 +NOT_STARTED +- +-' && printf '%s\n' \"\$OUT\" | grep -qE '^v4 +NOT_STARTED'"
check "it says why it stopped" "contains \"\$OUT\" 'stopping: 1 failure, more than --max-failures 0'"
check "v3 was not touched" "[ \"\$(sched_field v3 cordoned)\" = False ] && [ ! -e '$RBX_STATE_DIR/runs/'*v3* ]"

rm -rf "$RBX_STATE_DIR"
for n in 1 2 3 4; do "$RBX" lab reset "v$n" >/dev/null; "$RBX" lab inject "v$n" xid=48 gpu=3 >/dev/null; done
"$RBX" lab inject v2 dcgm=fail >/dev/null
expect_exit "--max-failures 1 goes on past one failure (still exit 1)" 1 roll gpu-fault --nodes 'v[1-4]' --lab --max-failures 1
check "v3 and v4 ran" "printf '%s\n' \"\$OUT\" | grep -qE '^v3 +SUCCEEDED' && printf '%s\n' \"\$OUT\" | grep -qE '^v4 +SUCCEEDED'"

# Interrupted mid-roll, then resumed: the unfinished run resumes, the rest run.
rm -rf "$RBX_STATE_DIR"
cat > slow.yaml <<'Y'
name: slow
title: A slow step
subsystem: provisioning
summary: Holds the node for a while.
trigger: {summary: test}
params:
  secs: {description: how long, default: '0', pattern: '^[0-9]+$'}
guard: {cordon: true, drain: true}
procedure:
  - name: wait a while
    ssh: "if [ ! -e waited ] && [ \"$RBX_LAB_NODE\" = u1 ]; then : > waited; sleep {{params.secs}}; fi"
    idempotent: true
verify:
  - {name: v, ssh: nvidia-smi -L}
rollback:
  - {name: r, ssh: nvidia-smi -L}
references: [https://example.invalid]
Y
"$RBX" roll "$WORK/slow.yaml" --nodes 'u[1-3]' --lab --param secs=60 > roll.out 2>&1 &
pid=$!
# Only u1 waits, and only the first time (the file says it began waiting).
i=0; until [ -e "$RBX_STATE_DIR/lab/nodes/u1/scratch/waited" ]; do i=$((i + 1)); [ $i -gt 80 ] && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
check "an interrupted roll exits 130 ($rc)" "[ $rc -eq 130 ]"
roll=$(journal_ids '' "$RBX_STATE_DIR/rolls")
check "and prints how to resume it" "grep -q \"rbx resume $roll\" roll.out"
check "u1 is left cordoned, u2 and u3 untouched" "[ \"\$(sched_field u1 cordoned)\" = True ] && [ \"\$(sched_field u2 cordoned)\" = False ]"
expect_exit "rbx resume of the roll finishes it" 0 resume "$roll"
check "u1's run was resumed (not a new run), u2 and u3 ran" "[ \$(ls '$RBX_STATE_DIR/runs' | wc -l) -eq 3 ] && grep -q '\"type\":\"resume\"' '$RBX_STATE_DIR'/runs/*u1*.jsonl"
check "the summary shows all three succeeded" "for n in 1 2 3; do printf '%s\n' \"\$OUT\" | grep -qE \"^u\$n +SUCCEEDED\" || exit 1; done"
expect_exit "a finished roll is not resumed again" 2 resume "$roll"

rm -rf "$RBX_STATE_DIR/rolls"
expect_exit "a bad hostlist is refused before anything runs" 2 roll gpu-fault --nodes 'n[3-1]' --lab
expect_exit "--batch 0 is refused" 2 roll gpu-fault --nodes 'n[1-2]' --batch 0 --lab
expect_exit "a missing required parameter is refused up front" 2 roll nccl-hang --nodes 'n[1-2]' --lab
check "(and no roll began)" "[ ! -d '$RBX_STATE_DIR/rolls' ] || [ -z \"\$(ls '$RBX_STATE_DIR/rolls')\" ]"
