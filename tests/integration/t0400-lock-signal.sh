# t0400-lock-signal: one run per node at a time (a second exits 5 and names the
# holder), and an interrupted run ends its step's process group, journals where it
# stands and exits 130.
. "$TOP/tests/integration/lib.sh"

cat > slow.yaml <<'Y'
name: slow
title: A slow step
subsystem: provisioning
summary: Holds the node for a while.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: wait a while
    ssh: sleep 113 & sleep 113
    timeout: 5m
verify:
  - {name: v, ssh: nvidia-smi -L}
rollback:
  - {name: r, ssh: nvidia-smi -L}
references: [https://example.invalid]
Y
"$RBX" run "$WORK/slow.yaml" --node l1 --lab > first.out 2>&1 &
pid=$!
wait_for 'wait a while' first.out
expect_exit "a second run on the same node exits 5" 5 run "$WORK/slow.yaml" --node l1 --lab
check "and names who holds the node (run, pid, host, user)" "contains \"\$ERR\" \"locked by another run (run=\" && contains \"\$ERR\" \"pid=$pid \" && contains \"\$ERR\" 'user='"
expect_exit "another node is free meanwhile" 0 lab show l2
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT ends the run with exit 130 ($rc)" "[ $rc -eq 130 ]"
check "the step's process group is gone" "sleep 0.3; [ \$(ps -eo args | grep -c '^sleep 113\$') -eq 0 ]"
check "the output says where the run stands" "grep -q 'interrupted' first.out"
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
expect_exit "the journal ends with INTERRUPTED" 0 log "$id"
check "rbx log shows the interrupted state" "contains \"\$OUT\" 'INTERRUPTED'"
check "the node stays cordoned: nothing half-done goes back into service" "[ \"\$(sched_field l1 cordoned)\" = True ]"
expect_exit "the lock is free again" 3 run "$WORK/slow.yaml" --node l1 --lab
check "(the next run is refused by the guard, not the lock)" "contains \"\$OUT\" 'already out of service'"
