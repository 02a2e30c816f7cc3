# t0020-plan: the plan is fully rendered (params quoted, node filled in) and nothing runs.
. "$TOP/tests/integration/lib.sh"

expect_exit "plan gpu-fault as JSON" 0 plan gpu-fault --node n42 --format json
printf '%s' "$OUT" > plan.json
check "plan JSON is valid and names every phase" "python3 -c 'import json; p=json.load(open(\"plan.json\")); assert set(p[\"phases\"])=={\"pre_checks\",\"procedure\",\"verify\",\"rollback\"}'"
check "every ssh/run step has its command rendered" "python3 - <<'PY'
import json
p = json.load(open('plan.json'))
steps = [s for ph in p['phases'].values() for s in ph] + [s['undo'] for ph in p['phases'].values() for s in ph if 'undo' in s]
cmds = [s for s in steps if s['kind'] in ('ssh', 'run')]
assert cmds, 'no commands'
for s in cmds:
    c = s['cmd']
    assert '{{params.' not in c and '{{node}}' not in c and '{{attempt}}' not in c, c
    assert s['target'] in ('node:n42', 'local'), s
PY"
check "params reach the command as variables, never as shell text" "python3 -c 'import json; s=json.load(open(\"plan.json\"))[\"phases\"][\"pre_checks\"][0]; assert \"since=-\\\"\${RBX_P_window}\\\"\" in s[\"cmd\"] and s[\"env\"] == {\"RBX_P_window\": \"24h\"}, s'"
check "the plan names the guard and its backend" "python3 -c 'import json; g=json.load(open(\"plan.json\"))[\"guard\"]; assert g[\"cordon\"] and g[\"drain\"]'"
expect_exit "plan with a param" 0 plan gpu-fault --node n42 --param window=2h
check "the param's value is shown beside the command" "contains \"\$OUT\" 'with RBX_P_window=2h'"
expect_exit "a param that fails its pattern is refused" 2 plan gpu-fault --node n42 --param "window=1h; reboot"
expect_exit "an unknown param is refused" 2 plan gpu-fault --node n42 --param nope=1
expect_exit "a node name with shell in it is refused" 2 plan gpu-fault --node 'n42$(reboot)'
expect_exit "plan never runs anything: no journal" 0 plan gpu-fault --node n42 --lab
check "no journal was written" "[ ! -d \"\$RBX_STATE_DIR/runs\" ]"
expect_exit "rbx graph (mermaid)" 0 graph gpu-fault
check "the graph holds every state and the runbook's steps" "for s in PENDING PRECHECK GUARD PROCEDURE VERIFY ROLLBACK RESTORE SUCCEEDED ABORTED FAILED FAILED_UNSAFE; do contains \"\$OUT\" \"\$s\" || exit 1; done; contains \"\$OUT\" 'Reset the GPU'"
expect_exit "rbx graph --format dot" 0 graph gpu-fault --format dot
check "dot output is a digraph with the rollback retry edge" "contains \"\$OUT\" 'digraph' && contains \"\$OUT\" 'ROLLBACK -> PROCEDURE'"
