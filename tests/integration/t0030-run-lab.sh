# t0030-run-lab: gpu-fault in the lab reaches each documented end, and the
# scheduler state afterwards is what that end promises.
. "$TOP/tests/integration/lib.sh"

scene() { "$RBX" lab reset n42 >/dev/null && "$RBX" lab inject n42 "$@" >/dev/null; }
end_state() { printf '%s' "$OUT" | python3 -c 'import json,sys
recs=[json.loads(l) for l in sys.stdin if l.strip()]
print(recs[-1]["state"])'; }

scene xid=48 gpu=3
expect_exit "XID 48: reset path SUCCEEDED (exit 0)" 0 run gpu-fault --node n42 --lab --format json
check "the node is back in service" "[ \"\$(sched_field n42 cordoned)\" = False ]"
check "the pending remap was applied by the reset" "lab_state n42 | python3 -c 'import json,sys; assert not json.load(sys.stdin)[\"gpus\"][3][\"remap_pending\"]'"
check "the run went PRECHECK GUARD PROCEDURE VERIFY RESTORE SUCCEEDED" "[ \"\$(printf '%s' \"\$OUT\" | python3 -c 'import json,sys; print(\" \".join(json.loads(l)[\"to\"] for l in sys.stdin if json.loads(l)[\"type\"]==\"state\"))')\" = 'PRECHECK GUARD PROCEDURE VERIFY RESTORE SUCCEEDED' ]"
check "json output is the journal's records" "printf '%s' \"\$OUT\" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' && cmp -s \"\$WORK/out\" \"\$(ls \$RBX_STATE_DIR/runs/*.jsonl | tail -n 1)\""

scene xid=13 gpu=1
expect_exit "XID 13 (application class): ABORTED, exit 3" 3 run gpu-fault --node n42 --lab
check "ABORTED changed nothing: never cordoned" "[ \"\$(lab_state n42 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"sched\"][\"history\"]))')\" = 0 ]"
check "the reason reaches the operator" "contains \"\$OUT\" 'application fault'"

"$RBX" lab reset n42 >/dev/null
expect_exit "no XID at all: ABORTED, exit 3" 3 run gpu-fault --node n42 --lab

scene xid=48 gpu=3 dcgm=fail
expect_exit "failing diagnostic: FAILED after rollback, exit 1" 1 run gpu-fault --node n42 --lab --format json
check "both attempts ran (max_attempts 2)" "printf '%s' \"\$OUT\" | grep -c '\"to\":\"PROCEDURE\"' | grep -qx 2"
check "the undo ran in the rollback" "printf '%s' \"\$OUT\" | grep -q '\"phase\":\"undo\",\"index\":0,\"name\":\"Start DCGM again\"'"
check "the node stays cordoned" "[ \"\$(sched_field n42 cordoned)\" = True ]"
check "its reason names the run and FAILED" "sched_field n42 reason | grep -q '^rbx:.* gpu-fault FAILED$'"
check "DCGM was restarted by the rollback" "lab_state n42 | grep -q '\"nvidia-dcgm\": \"active\"'"

scene xid=79 gpu=3 persistent
expect_exit "XID 79 that survives the restart: RMA path, exit 0" 0 run gpu-fault --node n42 --lab --yes --format json
check "the RMA was confirmed (by --yes)" "printf '%s' \"\$OUT\" | grep -q '\"type\":\"confirm\".*\"answer\":\"yes\",\"by\":\"--yes\"'"
check "verify was skipped on the RMA path" "[ \$(printf '%s' \"\$OUT\" | grep '\"phase\":\"verify\"' | grep -c step_skip) -eq 4 ]"
check "the node stays out for the RMA, with a reason" "[ \"\$(sched_field n42 cordoned)\" = True ] && sched_field n42 reason | grep -q 'kept out (Decide on the RMA)'"
check "the node was restarted once" "[ \"\$(lab_state n42 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"boot\"])')\" = 2 ]"

scene xid=79 gpu=3
expect_exit "XID 79 that a restart clears: SUCCEEDED" 0 run gpu-fault --node n42 --lab --yes
check "back in service after the restart" "[ \"\$(sched_field n42 cordoned)\" = False ]"

scene xid=79 gpu=3 persistent
expect_exit "a confirm with no TTY and no --yes stops before any change (exit 3)" 3 run gpu-fault --node n42 --lab
check "it says why" "contains \"\$OUT\" 'no TTY to ask, no --yes and no --answer'"
check "and nothing changed" "[ \"\$(sched_field n42 cordoned)\" = False ] && [ \"\$(lab_state n42 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"boot\"])')\" = 1 ]"

scene xid=48 gpu=2
"$RBX" lab inject n42 xid=48 gpu=2 >/dev/null
expect_exit "a repeated reset-class XID goes to RMA" 0 run gpu-fault --node n42 --lab --yes
check "and the node stays out" "[ \"\$(sched_field n42 cordoned)\" = True ]"

scene xid=48 gpu=3 drained=firmware-update
expect_exit "a node drained by someone else is not taken over (exit 3)" 3 run gpu-fault --node n42 --lab
check "the refusal shows the other reason" "contains \"\$OUT\" 'firmware-update' && contains \"\$OUT\" -- '--adopt'"
check "their reason is untouched" "[ \"\$(sched_field n42 reason)\" = firmware-update ]"
expect_exit "--adopt takes it over" 0 run gpu-fault --node n42 --lab --adopt

scene xid=48 gpu=3
expect_exit "a node name with shell in it exits 2 before anything runs" 2 run gpu-fault --node 'n42;reboot' --lab
check "nothing was journaled" "[ -z \"\$(ls \"\$RBX_STATE_DIR/runs\" 2>/dev/null | grep 'reboot')\" ]"
expect_exit "a param with shell in it exits 2" 2 run gpu-fault --node n42 --lab --param 'window=24h;reboot'
expect_exit "a missing --node is a usage error" 2 run gpu-fault --lab
expect_exit "without --lab, only the lab transport exists yet" 2 run gpu-fault --node n42

expect_exit "rbx runs lists the runs" 0 runs
check "runs shows states" "contains \"\$OUT\" 'SUCCEEDED' && contains \"\$OUT\" 'FAILED' && contains \"\$OUT\" 'ABORTED'"
id=$(ls "$RBX_STATE_DIR/runs" | head -n 1 | sed 's/.jsonl$//')
expect_exit "rbx log RUN" 0 log "$id"
check "the log starts with the run and ends with its end" "printf '%s\n' \"\$OUT\" | head -n 1 | grep -q 'run $id' && printf '%s\n' \"\$OUT\" | tail -n 1 | grep -q ' end '"
expect_exit "rbx log of a bad id is refused" 2 log '../../etc/passwd'

# A fault's value is checked, and a bad one names the fault and what it takes.
for bad in job_procs=abc 'job_procs=2;rm' recovery=xyz cooling=warm ib=bad headers=gone vllm=new memtemp=hot nvlink=up holder=daemon distro=arch gsp=mismatch mig=manual pcie=gen3; do
	expect_exit "lab inject refuses $bad" 2 lab inject n42 "$bad"
	check "(it names it: $bad)" "contains \"\$ERR\" \"${bad%%=*}=\""
done
