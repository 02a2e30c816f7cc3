# t0010-lint: bad runbooks are refused with file:line:col and exit 2, every error in one pass.
. "$TOP/tests/integration/lib.sh"

good() {
cat <<'Y'
name: NAME
title: A test runbook
subsystem: gpu-hardware
summary: For the tests.
trigger: {summary: a test}
params:
  gpu: {description: GPU index, default: '0', pattern: '^[0-9]+$'}
guard: {cordon: true, drain: true}
pre_checks:
  - name: Look
    ssh: nvidia-smi -L
    capture: seen
procedure:
  - name: Reset
    ssh: nvidia-smi -r -i {{params.gpu}}
    undo: {name: Start DCGM, ssh: systemctl start nvidia-dcgm}
verify:
  - name: Diag
    ssh: dcgmi diag -r 1
references: [https://docs.nvidia.com/deploy/nvidia-smi/index.html]
Y
}

good | sed 's/NAME/ok/' > ok.yaml
expect_exit "a good runbook lints clean" 0 lint ok.yaml

good | sed 's/NAME/unknown-key/; s/^    ssh: dcgmi diag -r 1/    ssh: dcgmi diag -r 1\n    timeuot: 5m/' > unknown-key.yaml
expect_exit "an unknown key exits 2" 2 lint unknown-key.yaml
check "an unknown key names file:line:col" "contains \"\$ERR\" 'unknown-key.yaml:20:5: error: unknown key .timeuot. in a step (did you mean .timeout.?)'"

cat > many.yaml <<'Y'
name: many
title: Many errors
subsystem: gpu-hardwar
summary: x
trigger: {summary: x}
guard: {cordon: true}
procedure:
  - name: Two actions
    ssh: a
    run: b
  - name: No action
    timeout: 5m
  - name: Bad duration
    ssh: c
    timeout: 5 minutes
  - name: Bad regex
    ssh: d
    expect: {stdout: '(unclosed'}
  - name: Unknown template
    ssh: echo {{params.nope}} {{captures.later}} {{whatever}}
    undo: {name: u, ssh: true}
verify:
  - name: v
    ssh: true
    capture: later
Y
expect_exit "a runbook with many errors exits 2" 2 lint many.yaml
check "all errors of a file come in one pass" "[ \$(printf '%s\n' \"\$ERR\" | grep -c 'many.yaml:[0-9]*:[0-9]*: error') -ge 8 ]"
check "bad subsystem" "contains \"\$ERR\" \"many.yaml:3:12: error: 'subsystem' must be one of\""
check "two actions" "contains \"\$ERR\" \"many.yaml:10:10: error: step 'Two actions' has more than one action\""
check "no action" "contains \"\$ERR\" \"many.yaml:11:5: error: step 'No action' has no action\""
check "bad duration" "contains \"\$ERR\" \"many.yaml:15:14: error: 'timeout' is not a duration: '5 minutes'\""
check "bad regex" "contains \"\$ERR\" \"many.yaml:18:22: error: 'stdout' is not a valid regex\""
check "unknown param in a template, at its column" "contains \"\$ERR\" \"many.yaml:20:15: error: unknown parameter 'nope'\""
check "a capture used before any step sets it" "contains \"\$ERR\" \"many.yaml:20:31: error: capture 'later' is not set by any earlier step\""
check "an unknown template name" "contains \"\$ERR\" \"unknown template name 'whatever'\""
good | sed 's/NAME/no-verify/; /^verify:/,/dcgmi diag/d' > no-verify.yaml
expect_exit "a missing required key exits 2" 2 lint no-verify.yaml
check "a missing required key is named" "contains \"\$ERR\" \"no-verify.yaml:1:1: error: the runbook is missing required key 'verify'\""
check "a step without undo or rollback is a lint error" "good | sed 's/NAME/no-undo/; /undo:/d' > no-undo.yaml; ! \"$RBX\" lint no-undo.yaml 2>e; grep -q \"no 'undo', and the runbook has no 'rollback'\" e"

good | sed 's/NAME/unguarded/; s/guard: {cordon: true, drain: true}/guard: {none: triage only}/' > unguarded.yaml
expect_exit "guard none with a mutating step exits 2" 2 lint unguarded.yaml
check "guard none names the mutating step" "contains \"\$ERR\" \"unguarded.yaml:14:5: error: step 'Reset' mutates the node, but the runbook declares 'guard: {none}'\""

good | sed 's/NAME/badname/' > other-name.yaml
expect_exit "name must equal the file stem" 2 lint other-name.yaml
good | sed "s/NAME/baddefault/; s/default: '0'/default: 'x'/" > baddefault.yaml
expect_exit "a default that fails its pattern" 2 lint baddefault.yaml
check "the default's position is named" "contains \"\$ERR\" \"baddefault.yaml:7:42: error: default 'x' of parameter 'gpu' does not match its pattern\""
printf 'name: [unclosed\n' > broken.yaml
expect_exit "broken YAML exits 2" 2 lint broken.yaml
check "broken YAML names a position" "contains \"\$ERR\" 'broken.yaml:[0-9]*:[0-9]*: error: YAML'"
: > empty.yaml
expect_exit "an empty file exits 2" 2 lint empty.yaml
good | sed 's/NAME/dollar-brace/; s/nvidia-smi -r -i {{params.gpu}}/echo ${X:-{{params.gpu}}}/' > dollar-brace.yaml
expect_exit "a template inside \${...} is refused" 2 lint dollar-brace.yaml
expect_exit "the whole catalogue lints clean, warnings included (--strict)" 0 lint --strict "$TOP/runbooks"
expect_exit "rbx run refuses an invalid runbook with exit 2" 2 run "$WORK/many.yaml" --node n42 --lab
# What lint calls an error never runs, though it loads: a mutating step with nothing to undo it.
good | sed 's/NAME/no-undo/' | grep -v 'undo:' > no-undo.yaml
expect_exit "lint refuses a mutating step with no undo and no rollback" 2 lint no-undo.yaml
expect_exit "and so do rbx run and rbx plan (exit 2)" 2 run "$WORK/no-undo.yaml" --node n42 --lab
check "naming the rule at file:line:col" "contains \"\$ERR\" 'no-undo.yaml:[0-9]*:[0-9]*: error: mutating step'"
expect_exit "(plan)" 2 plan "$WORK/no-undo.yaml" --node n42
check "and nothing ran: no journal" "[ ! -d \"\$RBX_STATE_DIR/runs\" ] || [ -z \"\$(ls \"\$RBX_STATE_DIR/runs\")\" ]"

# The catalogue's rules.
good | sed 's/NAME/echo-only/; s/ssh: dcgmi diag -r 1/ssh: echo all good/' > echo-only.yaml
expect_exit "a verify step that only echoes is a warning" 0 lint echo-only.yaml
expect_exit "which --strict (the catalogue's standard) refuses" 2 lint --strict echo-only.yaml
check "it is named as no real proof" "contains \"\$ERR\" \"echo-only.yaml:19:10: warning: step 'Diag' only prints or does nothing: give it a real action (a verify step needs a real proof)\""
good | sed 's/NAME/pinger/; s/ssh: dcgmi diag -r 1/ssh: ping -c1 {{node}}/' > pinger.yaml
expect_exit "a verify step that only pings is refused (--strict)" 2 lint --strict pinger.yaml
good | sed 's/NAME/todo/; s/name: Reset/name: Reset (TODO real command)/' > todo.yaml
expect_exit "a TODO in a step is refused (--strict)" 2 lint --strict todo.yaml
good | sed 's/NAME/early-rma/; s/name: Reset/name: File the RMA/' > early-rma.yaml
expect_exit "an RMA step before any XID classification is refused" 2 lint early-rma.yaml
check "the RMA rule names the step" "contains \"\$ERR\" \"early-rma.yaml:14:5: error: RMA step 'File the RMA' comes before any step classifies the XID\""
good | sed 's/NAME/late-rma/; s/capture: seen/capture: xid_class/; s/name: Reset/name: File the RMA/' > late-rma.yaml
expect_exit "an RMA step after the XID is classified is fine" 0 lint late-rma.yaml
good | sed 's/NAME/perf/; s/name: Reset/name: Read PERFORMANCE clocks/' > perf.yaml
expect_exit "PERFORMANCE is not an RMA" 0 lint perf.yaml
