# t0420-resume: rbx resume after an interrupt, a kill or a torn journal line: the
# step in doubt is never guessed, secrets are asked for again, a changed runbook refused.
. "$TOP/tests/integration/lib.sh"

cat > slow.yaml <<'Y'
name: slow
title: A slow step
subsystem: provisioning
summary: Holds the node for a while.
trigger: {summary: test}
params:
  token: {description: an API token, secret: true, default: ''}
  secs: {description: how long to wait, default: '117', pattern: '^[0-9]+$'}
guard: {cordon: true, drain: true}
procedure:
  - name: note the token
    ssh: echo "token {{params.token}}" > token.txt
    idempotent: true
  - name: wait a while
    ssh: sleep {{params.secs}} & sleep {{params.secs}}
    timeout: 5m
  - name: count the repairs
    ssh: echo x >> repairs.txt
verify:
  - {name: one repair, ssh: test "$(wc -l < repairs.txt)" -eq 1}
rollback:
  - {name: r, ssh: nvidia-smi -L}
references: [https://example.invalid]
Y
journal_of() { echo "$RBX_STATE_DIR/runs/$1.jsonl"; }

# 1. An interrupt mid-step.
"$RBX" run "$WORK/slow.yaml" --node r1 --lab > first.out 2>&1 &
pid=$!
wait_for 'wait a while' first.out
kill -TERM "$pid"
wait "$pid"
rc=$?
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
check "SIGTERM ends the run with exit 130 ($rc)" "[ $rc -eq 130 ]"
check "the output prints the resume command" "grep -q \"rbx resume $id\" first.out"
expect_exit "rbx runs lists it" 0 runs
check "as unfinished, in the state it stopped in" "contains \"\$OUT\" \"$id .*PROCEDURE\\*\""
expect_exit "rbx log shows where it stands" 0 log "$id"
check "unfinished, in PROCEDURE, cordoned, the step in doubt named" "contains \"\$OUT\" 'UNFINISHED: the run stopped in PROCEDURE (attempt 1); the node is cordoned' && contains \"\$OUT\" 'in doubt: \"wait a while\"' && contains \"\$OUT\" \"rbx resume $id\""
lines=$(wc -l < "$(journal_of "$id")")
expect_exit "a resume with no TTY and no decision stops (exit 2)" 2 resume "$id"
check "and says what to decide" "contains \"\$ERR\" 'wait a while' && contains \"\$ERR\" 'assume-done' && contains \"\$ERR\" 'rerun'"
check "and changes nothing: the journal is as it was" "[ \$(wc -l < '$(journal_of "$id")') -eq $lines ]"
expect_exit "both decisions at once are refused" 2 resume "$id" --assume-done --rerun
expect_exit "--assume-done continues the run to its end" 0 resume "$id" --assume-done
check "the step in doubt did not run again, the rest did" "[ ! -e '$RBX_STATE_DIR/lab/nodes/r1/scratch/repairs.txt.2' ] && [ \$(wc -l < '$RBX_STATE_DIR/lab/nodes/r1/scratch/repairs.txt') -eq 1 ]"
check "the node is back in service" "[ \"\$(sched_field r1 cordoned)\" = False ]"
check "the journal records the resume and the decision" "grep -q '\"type\":\"resume\"' '$(journal_of "$id")' && grep -q '\"status\":\"assumed_done\",\"by\":\"--assume-done\"' '$(journal_of "$id")'"
check "the journal is still 0600" "[ \$(stat -c %a '$(journal_of "$id")') = 600 ]"
expect_exit "a finished run is not resumed again" 2 resume "$id"
check "it says how it ended" "contains \"\$ERR\" 'already ended SUCCEEDED'"
expect_exit "rbx log says it finished" 0 log "$id"
check "(no UNFINISHED line)" "! contains \"\$OUT\" UNFINISHED"

# 2. A kill right after a step was announced: --rerun runs it (once).
rm -rf "$RBX_STATE_DIR/runs"
n=$(RBX_TEST_CRASH_AT=0 "$RBX_HOOKS" run "$WORK/slow.yaml" --node r2 --lab --param secs=0 --format json | grep -n '"name":"count the repairs"' | head -1 | cut -d: -f1)
"$RBX" lab reset r2 >/dev/null
rm -rf "$RBX_STATE_DIR/runs"
RBX_TEST_CRASH_AT=after:$n "$RBX_HOOKS" run "$WORK/slow.yaml" --node r2 --lab --param secs=0 --param token=s3cr3t-value > /dev/null 2>&1
rc=$?
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
check "the crash hook killed rbx after record $n ($rc)" "[ $rc -eq 137 ]"
expect_exit "a secret parameter must be given again" 2 resume "$id" --rerun
check "(it says which)" "contains \"\$ERR\" \"parameter 'token' is secret\""
expect_exit "only secret parameters may be given to a resume" 2 resume "$id" --rerun --param token=s3cr3t-value --param other=1
expect_exit "--rerun runs the step in doubt and finishes" 0 resume "$id" --rerun --param token=s3cr3t-value
check "the secret reached the step" "grep -q 's3cr3t-value' '$RBX_STATE_DIR/lab/nodes/r2/scratch/token.txt'"
check "and never the journal" "! grep -q 's3cr3t-value' '$(journal_of "$id")'"
check "the step ran once" "[ \$(wc -l < '$RBX_STATE_DIR/lab/nodes/r2/scratch/repairs.txt') -eq 1 ]"

# 3. An idempotent step in doubt is simply run again.
rm -rf "$RBX_STATE_DIR/runs"
"$RBX" lab reset r3 >/dev/null
n=$(RBX_TEST_CRASH_AT=0 "$RBX_HOOKS" run "$WORK/slow.yaml" --node r3 --lab --param secs=0 --format json | grep -n '"type":"step_start".*"name":"note the token"' | head -1 | cut -d: -f1)
"$RBX" lab reset r3 >/dev/null
rm -rf "$RBX_STATE_DIR/runs"
RBX_TEST_CRASH_AT=after:$n "$RBX_HOOKS" run "$WORK/slow.yaml" --node r3 --lab --param secs=0 > /dev/null 2>&1
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
expect_exit "an idempotent step in doubt needs no decision" 0 resume "$id"
check "the output says it was re-run" "contains \"\$OUT\" 'in doubt: procedure/1 \"note the token\" -> rerun (idempotent)'"

# 4. A torn last line (power loss mid-write) is cut, not a crash.
rm -rf "$RBX_STATE_DIR/runs"
"$RBX" lab reset r4 >/dev/null
RBX_TEST_CRASH_AT=torn:12 "$RBX_HOOKS" run "$WORK/slow.yaml" --node r4 --lab --param secs=0 > /dev/null 2>&1
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
check "the journal ends in a torn line" "[ \"\$(tail -c 1 '$(journal_of "$id")' | od -An -c | tr -d ' ')\" != '\\n' ]"
expect_exit "rbx log reads it" 0 log "$id"
check "and says the last line was torn" "contains \"\$OUT\" 'torn by a crash'"
run_rbx 0 resume "$id" --rerun || run_rbx 0 resume "$id"
check "the resume finishes the run ($RC)" "[ $RC -eq 0 ]"
check "every journal line is whole JSON again" "python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$(journal_of "$id")'"
check "the resume record says a torn line was cut" "grep -q '\"type\":\"resume\".*\"torn\":true' '$(journal_of "$id")'"

# 5. A changed runbook is refused: the steps' numbers would not mean the same.
rm -rf "$RBX_STATE_DIR/runs"
"$RBX" lab reset r5 >/dev/null
RBX_TEST_CRASH_AT=after:14 "$RBX_HOOKS" run "$WORK/slow.yaml" --node r5 --lab --param secs=0 > /dev/null 2>&1
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
cp slow.yaml slow.orig
sed -i 's/count the repairs/count repairs/' slow.yaml
expect_exit "a resume of a changed runbook is refused" 2 resume "$id" --rerun
check "(it says the runbook changed)" "contains \"\$ERR\" 'changed since run'"
cp slow.orig slow.yaml
expect_exit "with the runbook as it was, the resume goes on" 0 resume "$id" --rerun
expect_exit "a run id that names no run" 2 resume no-such-run
expect_exit "a run id that is a path is refused" 2 resume ../../etc/passwd

# 6. A cluster change in doubt is never repeated without asking: a second requeue
#    restarts the job again, a second sbatch submits a duplicate.
rm -rf "$RBX_STATE_DIR/runs"
"$RBX" lab reset n42 >/dev/null
"$RBX" lab inject n42 ib=errors job=here >/dev/null
n=$(RBX_TEST_CRASH_AT=0 "$RBX_HOOKS" run nccl-hang --node n42 --lab --param job_id=4242 --format json | grep -n '"type":"step_start".*"name":"Requeue the job' | head -1 | cut -d: -f1)
"$RBX" lab reset n42 >/dev/null
"$RBX" lab inject n42 ib=errors job=here >/dev/null
rm -rf "$RBX_STATE_DIR/runs"
RBX_TEST_CRASH_AT=after:$n "$RBX_HOOKS" run nccl-hang --node n42 --lab --param job_id=4242 > /dev/null 2>&1
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
check "the crash left the requeue in doubt (record $n)" "[ -n '$n' ] && tail -n 1 '$(journal_of "$id")' | grep -q '\"cluster\":true'"
expect_exit "a resume does not repeat the requeue on its own (exit 2)" 2 resume "$id"
check "it names the step and asks for a decision" "contains \"\$ERR\" 'Requeue the job' && contains \"\$ERR\" 'assume-done'"
check "the job was not requeued by the resume" "[ \"\$(lab_state n42 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cluster\"][\"job\"][\"requeues\"])')\" = 0 ]"
# The operator finds the job requeued after all (squeue says COMPLETING) and says so.
"$RBX" lab inject n42 job=requeued >/dev/null
expect_exit "--assume-done goes on without a second requeue" 0 resume "$id" --assume-done
check "the job was requeued once" "[ \"\$(lab_state n42 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"cluster\"][\"job\"][\"requeues\"])')\" = 1 ]"
