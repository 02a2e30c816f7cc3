# t0325-file-guard: `scheduler: file` guards a node outside any scheduler: the cordon,
# its reason and a history in $RBX_STATE_DIR/guard/NODE.json (0600), released at the end,
# kept (with the failure as reason) when a run fails; a bad name never makes a path.
. "$TOP/tests/integration/lib.sh"

cat >inv.yaml <<'Y'
defaults: {transport: lab, scheduler: file}
nodes:
  - {match: "f[1-3]"}
Y
for v in ok bad; do
	want=true
	[ "$v" = bad ] && want=false
	cat >"$v.yaml" <<Y
name: $v
title: A change behind the file guard
subsystem: provisioning
summary: One mutating step, then a verify that is $want.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - {name: change, ssh: "echo x >> changed.txt"}
verify:
  - {name: look, ssh: "$want"}
rollback:
  - {name: undo, ssh: "true"}
references: [https://example.invalid]
Y
done
G="$RBX_STATE_DIR/guard"

expect_exit "a run behind the file guard succeeds" 0 run ok.yaml --node f1 --inventory inv.yaml
check "the journal names the file scheduler" "grep -q '\"scheduler\":\"file\"' \"\$RBX_STATE_DIR\"/runs/*f1*.jsonl"
check "its state file is 0600" "[ \"\$(stat -c %a \"$G/f1.json\")\" = 600 ]"
check "the history has cordon, drain and uncordon" "python3 -c \"import json; h=[e['op'] for e in json.load(open('$G/f1.json'))['history']]; assert h==['cordon','drain','uncordon'], h\""
check "and the node ends in service" "python3 -c \"import json; d=json.load(open('$G/f1.json')); assert not d['cordoned'] and not d['drained'], d\""

expect_exit "a failed verify rolls back and exits 1" 1 run bad.yaml --node f2 --inventory inv.yaml
check "the node stays cordoned" "python3 -c \"import json; d=json.load(open('$G/f2.json')); assert d['cordoned'], d\""
check "with the failure as the reason" "python3 -c \"import json; d=json.load(open('$G/f2.json')); assert d['reason'].startswith('rbx:') and d['reason'].endswith('FAILED'), d\""

# A second run finds the node cordoned by someone else and refuses (nothing changed).
expect_exit "a cordoned node is refused without --adopt" 3 run ok.yaml --node f2 --inventory inv.yaml

expect_exit "the lab's files are untouched by the file guard" 0 lab show f1 --format json
check "the lab node's own scheduler never moved" "contains \"\$OUT\" '\"cordoned\": false'"

# A guard file that is not what rbx wrote stops the run before anything changes.
printf '[1,2' >"$G/f3.json"
expect_exit "a torn guard file stops the run with nothing changed (exit 3)" 3 run ok.yaml --node f3 --inventory inv.yaml
check "saying which file and why" "contains \"\$OUT\" 'guard/f3.json is unreadable'"
printf '[]' >"$G/f3.json"
expect_exit "so does one that holds no object" 3 run ok.yaml --node f3 --inventory inv.yaml
check "named as such" "contains \"\$OUT\" 'not a JSON object'"
