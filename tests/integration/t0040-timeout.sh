# t0040-timeout: a hung step is killed at its deadline, children included, and
# the run rolls back; rbx itself never hangs.
. "$TOP/tests/integration/lib.sh"

cat > hung.yaml <<'Y'
name: hung
title: A step that hangs
subsystem: gpu-hardware
summary: Proves that a step's deadline ends its whole process group.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: Hang with a child in the background
    ssh: sleep 100 & sleep 100
    timeout: 1s
  - name: Never reached
    ssh: true
verify:
  - name: Never reached either
    ssh: true
rollback:
  - name: Note the rollback
    ssh: echo rolled-back
references: [https://example.invalid/test]
Y

before=$(ps -eo args | grep -c '^sleep 100$')
start=$(date +%s%N)
expect_exit "the hung step fails the run, which rolls back (exit 1)" 1 run "$WORK/hung.yaml" --node n7 --lab --format json
end=$(date +%s%N)
elapsed=$(( (end - start) / 1000000 ))
after=$(ps -eo args | grep -c '^sleep 100$')
check "the whole run took about a second (${elapsed} ms < 3000 ms)" "[ $elapsed -lt 3000 ]"
check "the step ended by timeout after about 1 s" "printf '%s' \"\$OUT\" | python3 -c '
import json,sys
e=[json.loads(l) for l in sys.stdin if \"\\\"step_end\\\"\" in l][0]
assert e[\"status\"]==\"timeout\", e
assert 950 <= e[\"duration_ms\"] < 2500, e[\"duration_ms\"]'"
check "no sleep was left behind (before $before, after $after)" "[ $after -eq $before ]"
check "the rollback ran" "contains \"\$OUT\" 'rolled-back'"
check "the next step never ran" "! contains \"\$OUT\" 'Never reached\",\"kind\":\"ssh\",\"attempt\":1,\"try\"'"
check "the node stays cordoned" "[ \"\$(sched_field n7 cordoned)\" = True ]"

# A step whose shell exits while a child keeps the output pipe open must not wait for that child.
sed 's/ssh: sleep 100 \& sleep 100/ssh: sleep 100 \& echo started/; s/timeout: 1s/timeout: 30s/' hung.yaml > leaver.yaml
sed -i 's/^name: hung/name: leaver/' leaver.yaml
start=$(date +%s%N)
expect_exit "a step that leaves a child behind still finishes (and the run succeeds)" 0 run "$WORK/leaver.yaml" --node n8 --lab
end=$(date +%s%N)
check "without waiting for the child ($(( (end - start) / 1000000 )) ms < 3000 ms)" "[ $(( (end - start) / 1000000 )) -lt 3000 ]"
check "and the child was ended with the step" "[ \$(ps -eo args | grep -c '^sleep 100$') -eq $before ]"
