# t0150-alert: `rbx alert` reads Alertmanager's webhook notification (real ones from
# tests/fixtures/alertmanager), picks each firing alert's runbook and node, shows the
# plan and run lines, runs them with --run (once per alert), and refuses bad input
# with the JSON path of the fault and nothing changed.
. "$TOP/tests/integration/lib.sh"

FX="$TOP/tests/fixtures/alertmanager"
expect_exit "a firing GpuXidError: what would run" 0 alert "$FX/firing-xid.json" --lab
check "(gpu-fault on n42, with the plan and run lines)" "contains \"\$OUT\" 'GpuXidError firing (da72c7ba56643c14.*would-run gpu-fault on n42' && contains \"\$OUT\" '^  rbx plan gpu-fault --node n42 --lab\$' && contains \"\$OUT\" '^  rbx run gpu-fault --node n42 --lab\$'"
check "(nothing ran: no journal)" "[ ! -d '$RBX_STATE_DIR/runs' ] || [ -z \"\$(ls '$RBX_STATE_DIR/runs')\" ]"
check "the same from stdin, as JSON: one object with runbook, node, action, plan and run lines" "'$RBX' alert - --lab --format json < '$FX/firing-xid.json' | python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); assert (o[\"runbook\"], o[\"node\"], o[\"action\"]) == (\"gpu-fault\", \"n42\", \"would-run\") and o[\"run\"] == \"rbx run gpu-fault --node n42 --lab\", o'"
expect_exit "a resolved alert is reported, not run" 0 alert "$FX/resolved.json" --lab --run
check "(resolved, and no run began)" "contains \"\$OUT\" 'resolved: nothing to run' && [ ! -d '$RBX_STATE_DIR/runs' ]"

# --run repairs a lab node end to end, once.
"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
expect_exit "--run repairs the node through the runner (guard, journal)" 0 alert "$FX/firing-xid.json" --lab --run
check "(the run SUCCEEDED and the node is back in service)" "contains \"\$OUT\" 'ran gpu-fault on n42 run .* exit 0' && [ \"\$(sched_field n42 cordoned)\" = False ] && [ \$(ls '$RBX_STATE_DIR/runs' | grep -c 'n42.*jsonl\$') -eq 1 ]"
check "(the alert is remembered, 0600)" "[ \"\$(stat -c %a '$RBX_STATE_DIR'/alerts/da72c7ba56643c14@*)\" = 600 ]"
expect_exit "the same notification again (Alertmanager repeats it) runs nothing" 0 alert "$FX/firing-xid.json" --lab --run
check "(handled, and still one run)" "contains \"\$OUT\" 'handled gpu-fault on n42' && [ \$(ls '$RBX_STATE_DIR/runs' | grep -c 'n42.*jsonl\$') -eq 1 ]"

# An alert no runbook answers; an instance host:port and an FQDN mapped to the
# inventory's node, shown; a node outside the inventory refused.
python3 - "$FX/firing-xid.json" "$WORK" <<'PY'
import json, sys
base = json.load(open(sys.argv[1]))
def write(name, **labels):
    d = json.loads(json.dumps(base)); d["alerts"][0]["labels"].update(labels)
    for k in [k for k, v in labels.items() if v is None]: del d["alerts"][0]["labels"][k]
    json.dump(d, open(sys.argv[2] + "/" + name, "w"))
write("unmatched.json", alertname="SomethingElse")
write("fqdn.json", alertname="FabricManagerDown", Hostname=None, instance="n42.dc1.example.com:9100")
write("outside.json", alertname="FabricManagerDown", Hostname=None, instance="n99.dc1.example.com:9100")
write("hostile.json", Hostname="n42;touch /tmp/rbx-t0150-pwned")
write("nonode.json", Hostname=None)
d = json.loads(json.dumps(base)); d["alerts"][0]["labels"]["Hostname"] = 42; json.dump(d, open(sys.argv[2] + "/badtype.json", "w"))
d = json.loads(json.dumps(base)); d["version"] = "3"; json.dump(d, open(sys.argv[2] + "/v3.json", "w"))
d = json.loads(json.dumps(base)); d["alerts"][0]["fingerprint"] = "../../etc"; json.dump(d, open(sys.argv[2] + "/fp.json", "w"))
d = json.loads(json.dumps(base)); d["alerts"][0]["labels"]["pad"] = "x" * (10 * 1024 * 1024); json.dump(d, open(sys.argv[2] + "/big.json", "w"))
PY
printf 'nodes:\n  - {match: "n[40-43]", transport: lab}\n' > "$WORK/inv.yaml"
expect_exit "an alert no runbook's trigger matches is reported, not run" 0 alert "$WORK/unmatched.json" --lab --run
check "(unmatched)" "contains \"\$OUT\" 'SomethingElse firing .*unmatched'"
expect_exit "an instance host:port with an FQDN is mapped to the inventory's node" 0 alert "$WORK/fqdn.json" --inventory "$WORK/inv.yaml"
check "(the mapping is shown, and the run line names n42)" "contains \"\$OUT\" 'would-run fabric-manager-failure on n42 (instance n42.dc1.example.com:9100 -> node n42)' && contains \"\$OUT\" 'rbx run fabric-manager-failure --node n42 --inventory'"
expect_exit "a node outside the inventory is refused" 0 alert "$WORK/outside.json" --inventory "$WORK/inv.yaml" --run
check "(refused, named, and not run)" "contains \"\$OUT\" \"refused fabric-manager-failure ('n99.dc1.example.com:9100' is not in the inventory)\""
expect_exit "a node label that is not a node name is refused" 0 alert "$WORK/hostile.json" --lab --run
check "(refused; nothing reached a shell)" "contains \"\$OUT\" 'refused gpu-fault' && [ ! -e /tmp/rbx-t0150-pwned ]"
expect_exit "an alert without its node label is refused" 0 alert "$WORK/nonode.json" --lab
check "(it says which label)" "contains \"\$OUT\" \"no 'Hostname' label\""
expect_exit "no inventory and no --lab: refused" 2 alert "$FX/firing-xid.json" --inventory "$WORK/none.yaml"

# Malformed payloads: exit 2, the JSON path of the fault, and nothing written.
rm -rf "$RBX_STATE_DIR"
printf 'not json' > "$WORK/nojson"
expect_exit "a body that is not JSON" 2 alert "$WORK/nojson" --lab --run
check "(says so)" "contains \"\$ERR\" '\\\$: not JSON'"
expect_exit "a label value that is not a string" 2 alert "$WORK/badtype.json" --lab --run
check "(names its path)" "contains \"\$ERR\" '\\\$.alerts\\[0\\].labels.Hostname: a label value must be a string'"
expect_exit "another webhook version" 2 alert "$WORK/v3.json" --lab --run
check "(names \$.version)" "contains \"\$ERR\" '\\\$.version'"
expect_exit "a fingerprint that is not Alertmanager's (it names a file)" 2 alert "$WORK/fp.json" --lab --run
check "(names its path)" "contains \"\$ERR\" 'alerts\\[0\\].fingerprint'"
expect_exit "a notification over 10 MB" 2 alert "$WORK/big.json" --lab --run
check "(says so)" "contains \"\$ERR\" 'over 10485760 bytes'"
check "nothing was written by any of them" "[ ! -e '$RBX_STATE_DIR/alerts' ] && [ ! -e '$RBX_STATE_DIR/runs' ]"
