# t0520-bytes: output that is not UTF-8, or that a cut splits mid-character, never
# makes a journal field or record vanish; a capture comes back from the journal exactly.
. "$TOP/tests/integration/lib.sh"

cat > b.yaml <<'Y'
name: b
title: Bytes
subsystem: provisioning
summary: A capture that is not UTF-8, across a resume.
trigger: {summary: test}
guard: {cordon: true}
procedure:
  - name: capture latin-1
    ssh: printf 'caf\351'
    capture: c
  - name: wait a while
    ssh: sleep 30
    idempotent: true
  - name: use the capture
    ssh: printf '%s' {{captures.c}} > cap.out
    idempotent: true
verify:
  - name: the capture chose this branch
    ssh: 'true'
    when: {capture: c, matches: '^caf.$'}
rollback:
  - {name: r, ssh: 'true'}
references: [https://example.invalid]
Y
"$RBX" run "$WORK/b.yaml" --node b1 --lab > run.out 2>&1 &
pid=$!
wait_for 'wait a while' run.out
kill -TERM "$pid"; wait "$pid"
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
J="$RBX_STATE_DIR/runs/$id.jsonl"
check "the journal holds the capture (as base64: it is not UTF-8)" "grep -q '\"captures\":{\"c\":{\"base64\":\"Y2Fm6Q==\"}}' '$J'"
expect_exit "the run resumes" 0 resume "$id"
printf 'caf\351' > want
check "the resumed step got the capture's exact bytes" "cmp '$RBX_STATE_DIR/lab/nodes/b1/scratch/cap.out' want"
check "and the branch it chose before the crash" "grep -q '\"name\":\"the capture chose this branch\".*\"status\":\"ok\"' '$J'"

cat > e.yaml <<'Y'
name: e
title: A long error
subsystem: provisioning
summary: Fails with a long line of two-byte characters.
trigger: {summary: test}
guard: {cordon: true}
procedure:
  - name: fail loudly
    ssh: printf 'x\377\n' >&2; printf x >&2; i=0; while [ $i -lt 400 ]; do printf 'é'; i=$((i + 1)); done >&2; exit 1
verify:
  - {name: v, ssh: 'true'}
rollback:
  - {name: r, ssh: 'true'}
references: [https://example.invalid]
Y
expect_exit "a step failing with a long é line and a stray byte ends FAILED (exit 1)" 1 run "$WORK/e.yaml" --node e1 --lab --format json
J=$(ls -t "$RBX_STATE_DIR"/runs/*e1*.jsonl | head -n 1)
check "every record is valid JSON, and run_end is there" "python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert r[-1][\"type\"]==\"run_end\", r[-1]' '$J'"
check "the step's error names the exit status and keeps the stderr text" "python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1]) if \"step_end\" in l][0][\"error\"]; assert e.startswith(\"exit status 1\"), e' '$J'"
check "the run_end error says why" "python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][-1]; assert \"fail loudly\" in r[\"error\"], r' '$J'"
expect_exit "rbx log reads it" 0 log "$(basename "$J" .jsonl)"
