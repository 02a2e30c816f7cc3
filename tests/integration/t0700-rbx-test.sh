# t0700-rbx-test: `rbx test` on a team's own runbook that calls its site scripts. Stubs
# stand for the scripts (one answer a call, for retries); a passing and a failing
# scenario, what a failure prints, JUnit and JSON; coverage with a gap, then waived;
# a scenario that hangs is ended at its timeout with nothing left running; and bad
# scenario files refused at file:line:col with nothing run.
. "$TOP/tests/integration/lib.sh"
mkdir -p tmp
export TMPDIR="$WORK/tmp" # where rbx test makes each scenario's state dir

mkdir -p books/tests
cat > books/site-fix.yaml <<'Y'
name: site-fix
title: A repair that calls the site's scripts
subsystem: provisioning
summary: Asks the site's checker, flushes the site cache (retried), and proves the GPUs.
trigger:
  summary: NodeSite fires
params:
  deep: {description: also run the deep check, default: 'no', pattern: '^(yes|no)$'}
guard: {cordon: true, drain: true, drain_timeout: 1m}
pre_checks:
  - {name: the checker answers, ssh: site-check --ping, timeout: 1m}
procedure:
  - {name: reset the clocks, ssh: nvidia-smi -rgc, timeout: 1m}
  - name: flush the site cache
    ssh: site-flush --all
    retries: 2
    retry_delay: 1s
    timeout: 1m
  - name: the deep check
    when: {param: deep, equals: 'yes'}
    ssh: site-check --deep
    timeout: 1m
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
cat > books/tests/site-fix.yaml <<'Y'
scenarios:
  - name: the flush works on its second try
    stubs:
      site-check: {stdout: "pong\n"}
      site-flush:
        - {stderr: "busy\n", exit: 1}
        - {stdout: "flushed\n"}
    expect:
      exit: 0
      state: SUCCEEDED
      node: in-service
      ran: [flush the site cache]
      skipped: [the deep check]
      output: ['flush']
      node_state: {stubs.site-flush.n: 2}
  - name: the flush never works
    stubs:
      site-check: {stdout: "pong\n"}
      site-flush: {stderr: "broken\n", exit: 3}
    expect:
      exit: 1
      state: FAILED
      node: cordoned
      reason: '^rbx:.*site-fix FAILED'
      node_state: {stubs.site-flush.n: 3}
Y
"$RBX" test books --junit junit.xml > out.txt 2>&1
rc=$?
check "both scenarios pass: exit 0 ($rc)" "[ $rc -eq 0 ] && grep -q '^2 scenarios: 2 passed, 0 failed' out.txt || { cat out.txt; false; }"
check "a line each" "[ \$(grep -c '^ok   site-fix: ' out.txt) -eq 2 ]"
"$RBX" test books --format json > res.json 2>/dev/null
check "the JUnit file holds both, as the JSON does" "python3 '$TOP/tests/tools/junit_check.py' junit.xml res.json"
check "each scenario's state dir is gone afterwards" "[ -z \"\$(ls tmp)\" ]"

# A scenario whose expectation does not hold: expected and actual, the journal's tail.
cp books/tests/site-fix.yaml right.yaml
sed 's/exit: 1$/exit: 0/' right.yaml > books/tests/site-fix.yaml
"$RBX" test books --junit junit.xml > out.txt 2>&1
rc=$?
check "a failing scenario: exit 1" "[ $rc -eq 1 ] && grep -q '^2 scenarios: 1 passed, 1 failed' out.txt"
check "it says where, and what was expected and what came" "grep -q '^FAIL site-fix: the flush never works' out.txt && grep -q 'books/tests/site-fix.yaml:[0-9]*: exit 1, end state FAILED' out.txt && grep -q 'exit: expected 0, was 1' out.txt"
check "with the journal's last records" "grep -q 'the journal.s last records:' out.txt && grep -q '\"type\":\"run_end\",\"state\":\"FAILED\"' out.txt"
check "JUnit marks it failed with why" "grep -q '<failure message=\"exit 1, end state FAILED\">exit: expected 0, was 1' junit.xml"
cp right.yaml books/tests/site-fix.yaml

# Coverage: the deep check's `when` never held.
"$RBX" test books --coverage > cov.txt 2>&1
rc=$?
check "a gap in coverage fails --coverage (exit $rc)" "[ $rc -eq 1 ] && grep -q \"procedure 'the deep check': its when never held\" cov.txt"
cat >> books/tests/site-fix.yaml <<'Y'
coverage:
  waive:
    - step: the deep check
      when: true
      why: The deep check needs the site's burn-in rack, which no lab node has.
Y
"$RBX" test books --coverage --format json > cov.json 2>&1
rc=$?
check "waived in writing, it passes" "[ $rc -eq 0 ] && python3 -c 'import json; d=json.load(open(\"cov.json\"))[\"coverage\"]; assert d[\"complete\"]; g=d[\"runbooks\"][0][\"gaps\"][0]; assert \"burn-in rack\" in g[\"waived\"], g'"

# A scenario that hangs is ended at its timeout, all of it.
cp books/site-fix.yaml books/hang.yaml
sed -i 's/^name: site-fix/name: hang/; s/ssh: site-flush --all/ssh: sleep 37; site-flush --all/' books/hang.yaml
cat > books/tests/hang.yaml <<'Y'
scenarios:
  - name: the flush hangs
    timeout: 2s
    stubs:
      site-check: {stdout: "pong\n"}
      site-flush: {stdout: "flushed\n"}
    expect: {exit: 0}
Y
t0=$(date +%s)
"$RBX" test books/hang.yaml > hang.txt 2>&1
rc=$?
t1=$(date +%s)
check "a hanging scenario fails at its timeout ($((t1 - t0))s)" "[ $rc -eq 1 ] && grep -q 'timed out after 2s' hang.txt && [ $((t1 - t0)) -lt 15 ]"
check "and leaves nothing running: not rbx run, not the step's shell in its own group" "! pgrep -f 'sleep 3[7]' >/dev/null"
pkill -f 'sleep 3[7]'
check "the timed-out run was stopped as an interrupted run is: its journal says so" "grep -q 'timed out after 2s' hang.txt && grep -q 'INTERRUPTED\|UNFINISHED\|interrupted' hang.txt"
rm books/hang.yaml books/tests/hang.yaml

# Bad scenario files: each at file:line:col, exit 2, nothing run.
bad() { # NAME TEXT MESSAGE (a fixed string)
	printf '%s\n' "$2" > books/tests/site-fix.yaml
	printf '%s\n' "$3" > want.txt
	"$RBX" test books > bad.txt 2>&1
	rc=$?
	check "$1: exit 2 at file:line:col, nothing ran" "[ $rc -eq 2 ] && grep -qF -f want.txt bad.txt && ! grep -q '^ok\\|^FAIL' bad.txt || { cat bad.txt; false; }"
}
cp books/tests/site-fix.yaml good.yaml
bad "an unknown key" 'scenarios:
  - name: x
    faults: [xid=48]
    expectt: {exit: 0}' "books/tests/site-fix.yaml:4:5: error: unknown key 'expectt' in a scenario"
bad "a fault the lab does not know" 'scenarios:
  - name: x
    faults: [xid=48, meltdown=yes]' "books/tests/site-fix.yaml:3:22: error: unknown fault 'meltdown=yes'"
bad "a stub for a command the runbook never calls" 'scenarios:
  - name: x
    stubs:
      site-reboot: {exit: 0}' "books/tests/site-fix.yaml:4:7: error: stub 'site-reboot': site-fix never calls it"
bad "a stub for a command the lab simulates" 'scenarios:
  - name: x
    stubs:
      nvidia-smi: {exit: 0}' "books/tests/site-fix.yaml:4:7: error: stub 'nvidia-smi': the lab simulates nvidia-smi"
bad "a step that is not one" 'scenarios:
  - name: x
    expect: {ran: [flush the cache]}' "books/tests/site-fix.yaml:3:20: error: ran: 'flush the cache' is no step of site-fix"
bad "a pattern that is not one" 'scenarios:
  - name: x
    expect: {output: ["a(b"]}' "books/tests/site-fix.yaml:3:23: error: output: 'a(b' is not an extended regular expression"
bad "a waiver without a reason" 'scenarios:
  - name: x
coverage:
  waive:
    - {step: the deep check}' "books/tests/site-fix.yaml:5:7: error: a waiver says why"
bad "an answer for a step that asks nothing" 'scenarios:
  - name: x
    answers: {flush the site cache: "no"}' "books/tests/site-fix.yaml:3:15: error: answers: 'flush the site cache' is no confirm step of site-fix"
bad "not YAML" 'scenarios: [' "books/tests/site-fix.yaml:2:1: error: YAML"
cp good.yaml books/tests/site-fix.yaml

# A runbook without scenarios is named, not failed; bad options are usage errors.
cp books/site-fix.yaml books/untested.yaml && sed -i 's/^name: site-fix/name: untested/' books/untested.yaml
"$RBX" test books > out.txt 2>&1
check "a runbook without scenarios is named" "grep -q 'note books/untested.yaml: no scenarios' out.txt"
expect_exit "-j 0 is refused" 2 test books -j 0
expect_exit "a runbook that does not exist is refused" 2 test no-such-runbook

# rbx run --answer (what a scenario's answers become): journaled in run_start, so a run
# killed before its question and resumed without the option answers it the same.
cat > books/ask.yaml <<'Y'
name: ask
title: Asks before it goes on
subsystem: provisioning
summary: Waits, asks, and goes on only when told.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 1m}
procedure:
  - {name: wait a while, ssh: sleep 2, timeout: 1m, idempotent: true}
  - {name: go on, confirm: Go on with the repair?}
  - {name: repair, ssh: nvidia-smi -rgc, timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
rm -f books/tests/site-fix.yaml books/untested.yaml
"$RBX" run books/ask.yaml --node n9 --lab --answer 'go on=no' > ask.out 2>&1 &
apid=$!
i=0; until grep -qs '"name":"wait a while"' "$RBX_STATE_DIR"/runs/*-n9-*.jsonl; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05; done
kill -9 $apid; wait $apid 2>/dev/null
run=$(journal_ids -n9-)
check "(the run was killed before its question)" "! grep -q '\"type\":\"confirm\"' '$RBX_STATE_DIR/runs/$run.jsonl'"
"$RBX" resume "$run" --rerun > resume.out 2>&1
rc=$?
check "resumed without --answer, the question gets the journaled answer: no (exit $rc)" "[ $rc -eq 1 ] && grep -q '\"type\":\"confirm\".*\"answer\":\"no\",\"by\":\"--answer\"' '$RBX_STATE_DIR/runs/$run.jsonl'"
expect_exit "--answer wants yes or no" 2 run books/ask.yaml --node n9 --lab --answer 'go on=maybe'
