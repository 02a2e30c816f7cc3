# t0620-serve-breaker: incidents of runbooks on the auto list run at once, each an `rbx
# run` of its own, until the circuit breaker trips: a storm of 50 matching alerts for 50
# lab nodes starts at most K runs, holds the rest, shows the breaker tripped on the
# dashboard and in /metrics, and nothing more runs until an operator's recorded reset.
. "$TOP/tests/integration/lib.sh"

mkdir -p books
cat > books/touch.yaml <<'Y'
name: touch
title: A quick repair
subsystem: provisioning
summary: Holds the node for a moment.
trigger:
  summary: NodeTouch fires
  alerts:
    - {alertname: NodeTouch}
  node_label: Hostname
guard: {cordon: true, drain: true, drain_timeout: 1m}
procedure:
  - {name: reset the clocks, ssh: nvidia-smi -rgc, timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
export RBX_RUNBOOKS="$WORK/books"
printf 'a-receiver-token-0123456789\n' > recv.token
printf 'an-operator-token-0123456789\n' > op.token
serve_start --lab --receiver-token-file recv.token --operator-token-file op.token \
	--auto touch --breaker-nodes 3 --breaker-window 1h
storm() { python3 - "$1" "$2" "${3:-NodeTouch}" <<'PY'
import json, sys
first, last, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
alerts = [{"status": "firing", "labels": {"alertname": name, "Hostname": "t%d" % i},
           "annotations": {}, "startsAt": "2026-11-26T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
           "generatorURL": "", "fingerprint": "%016x" % (0xabc000 + i)} for i in range(first, last + 1)]
print(json.dumps({"receiver": "rbx", "status": "firing", "alerts": alerts, "version": "4",
                  "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
                  "groupKey": "{}", "truncatedAlerts": 0}))
PY
}
post() { curl -s -o resp.json -w '%{http_code}' -XPOST -H 'Authorization: Bearer a-receiver-token-0123456789' --data-binary @- "$URL/alertmanager"; }
runs() { journal_ids '' | wc -l; }
ended() { grep -l '"type": *"run_end"\|"type":"run_end"' "$RBX_STATE_DIR"/runs/*.jsonl 2>/dev/null | wc -l; }
settle() { i=0; while [ "$(ended)" -lt "$1" ] && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done; }

check "a storm of 50 alerts for 50 nodes is received" "[ \$(storm 1 50 | post) = 200 ]"
check "(3 started, 47 held by the breaker)" "python3 -c 'import json; a=[i[\"action\"] for i in json.load(open(\"resp.json\"))[\"incidents\"]]; assert a.count(\"started\") == 3 and a.count(\"held\") == 47, a'"
settle 3
check "exactly three runs ran, each to SUCCEEDED" "[ \$(runs) -eq 3 ] && [ \$(grep -l 'SUCCEEDED' '$RBX_STATE_DIR'/runs/*.jsonl | wc -l) -eq 3 ]"
check "each journal names the alert that asked for it" "[ \$(grep -l '\"requested_by\":\"rbx serve: alert 0000000000abc00[1-9] (NodeTouch)\"' '$RBX_STATE_DIR'/runs/*.jsonl | wc -l) -eq 3 ]"
check "no other node was ever cordoned" "for i in \$(seq 4 50); do [ ! -e '$RBX_STATE_DIR/lab/nodes/t'\$i ] || [ \"\$(sched_field t\$i cordoned)\" = False ] || exit 1; done"
check "the dashboard says the breaker is tripped, and why" "curl -s '$URL/' | grep -q 'The breaker is tripped:</b> 3 nodes of pool'"
check "and /metrics" "curl -s '$URL/metrics' | grep -qx 'rbx_breaker_tripped 1'"
check "the same storm again starts nothing" "[ \$(storm 1 50 | post) = 200 ] && sleep 1 && [ \$(runs) -eq 3 ] && ! grep -q '\"started\"' resp.json"
check "a new alert starts nothing while it is tripped" "[ \$(storm 51 51 | post) = 200 ] && grep -q '\"held\"' resp.json && sleep 1 && [ \$(runs) -eq 3 ]"
reset() { curl -s -o reset.txt -w '%{http_code}' -XPOST "$@" "$URL/breaker/reset"; }
check "a reset without the operator's token: 401" "[ \$(reset) = 401 ] && curl -s '$URL/metrics' | grep -qx 'rbx_breaker_tripped 1'"
check "a reset that does not say who: 400" "[ \$(reset -H 'Authorization: Bearer an-operator-token-0123456789') = 400 ]"
check "a reset by a named operator: 200, recorded with who" "[ \$(reset -H 'Authorization: Bearer an-operator-token-0123456789' -H 'X-Rbx-Operator: alice') = 200 ] && grep -q '\"reset_by\":\"alice\"' '$RBX_STATE_DIR/serve/breaker.json' && curl -s '$URL/metrics' | grep -qx 'rbx_breaker_tripped 0'"
check "after it, a new alert runs" "[ \$(storm 52 52 | post) = 200 ] && grep -q '\"started\"' resp.json"
settle 4
check "(four runs in all)" "[ \$(runs) -eq 4 ]"

# The receiver keeps the catalogue loaded between posts; a runbook added or edited in
# place (same size, so only its times change) must be seen by the very next post.
action() { python3 -c 'import json; i=json.load(open("resp.json"))["incidents"][0]; print(i["action"], i.get("runbook"))'; }
check "an alert no runbook names is unmatched" "[ \$(storm 60 60 NodeProbe | post) = 200 ] && [ \"\$(action)\" = 'unmatched None' ]"
sed -e 's/^name: touch/name: probe/' -e 's/NodeTouch/NodeProbe/' books/touch.yaml > books/probe.yaml
check "a runbook added while serving matches the next post" "[ \$(storm 61 61 NodeProbe | post) = 200 ] && [ \"\$(action)\" = 'waiting probe' ]"
sed -i 's/NodeProbe/NodeProbx/' books/probe.yaml
check "edited in place, the old alert no longer matches" "[ \$(storm 62 62 NodeProbe | post) = 200 ] && [ \"\$(action)\" = 'unmatched None' ]"
check "and the new one does" "[ \$(storm 63 63 NodeProbx | post) = 200 ] && [ \"\$(action)\" = 'waiting probe' ]"
serve_stop
