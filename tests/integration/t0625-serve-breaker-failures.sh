# t0625-serve-breaker-failures: the breaker's second limit. Auto runs that fail (exit 1,
# rolled back; exit 4, rollback failed) count per pool within the window; at
# --breaker-failures K the breaker trips as the Kth failed run ends, before any new alert,
# and holds every auto run until an operator's reset. Runs that succeed never count.
. "$TOP/tests/integration/lib.sh"

mkdir -p books
cat > books/flaky.yaml <<'Y'
name: flaky
title: A repair that does not take
subsystem: provisioning
summary: Its procedure fails, so every run rolls back and leaves the node cordoned.
trigger:
  summary: NodeFlaky fires
  alerts:
    - {alertname: NodeFlaky}
  node_label: Hostname
guard: {cordon: true, drain: true, drain_timeout: 1m}
procedure:
  - {name: try the repair, ssh: "nvidia-smi -L && exit 1", timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
sed -e 's/^name: flaky/name: steady/' -e 's/NodeFlaky/NodeSteady/' -e 's/ && exit 1//' books/flaky.yaml > books/steady.yaml
export RBX_RUNBOOKS="$WORK/books"
printf 'a-receiver-token-0123456789\n' > recv.token
printf 'an-operator-token-0123456789\n' > op.token
serve_start --lab --receiver-token-file recv.token --operator-token-file op.token \
	--auto flaky,steady --breaker-nodes 20 --breaker-failures 2 --breaker-window 1h
alert() { python3 - "$1" "$2" <<'PY'
import json, sys
name, node = sys.argv[1], sys.argv[2]
fp = "%016x" % (abs(hash(name + node)) % (1 << 60))
print(json.dumps({"receiver": "rbx", "status": "firing", "version": "4", "groupLabels": {},
                  "commonLabels": {}, "commonAnnotations": {}, "externalURL": "", "groupKey": "{}",
                  "truncatedAlerts": 0, "alerts": [{"status": "firing", "annotations": {},
                  "labels": {"alertname": name, "Hostname": node}, "startsAt": "2026-11-26T06:00:00Z",
                  "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fp}]}))
PY
}
post() { alert "$1" "$2" | curl -s -o resp.json -w '%{http_code}' -XPOST \
	-H 'Authorization: Bearer a-receiver-token-0123456789' --data-binary @- "$URL/alertmanager"; }
action() { python3 -c 'import json; print(json.load(open("resp.json"))["incidents"][0]["action"])'; }
ended() { grep -l '"type":"run_end"' "$RBX_STATE_DIR"/runs/*.jsonl 2>/dev/null | wc -l; }
settle() { i=0; while [ "$(ended)" -lt "$1" ] && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done; }
tripped() { curl -s "$URL/metrics" | grep -qx 'rbx_breaker_tripped 1'; }

check "a run that succeeds starts" "[ \$(post NodeSteady s1) = 200 ] && [ \$(action) = started ]"
settle 1
check "a first failing run starts" "[ \$(post NodeFlaky f1) = 200 ] && [ \$(action) = started ]"
settle 2
check "(it rolled back: exit 1)" "grep -q '\"requested_by\":\"rbx serve: alert' \$(grep -l '\"node\":\"f1\"' '$RBX_STATE_DIR'/runs/*.jsonl) && grep -q '\"exit\":1' \$(grep -l '\"node\":\"f1\"' '$RBX_STATE_DIR'/runs/*.jsonl)"
check "one failure and one success: the breaker stays closed" "sleep 0.5; ! tripped"
check "a second failing run starts" "[ \$(post NodeFlaky f2) = 200 ] && [ \$(action) = started ]"
settle 3
check "as it ends the breaker trips, before any new alert" "i=0; until tripped; do i=\$((i + 1)); [ \$i -gt 50 ] && exit 1; sleep 0.1; done"
check "the dashboard says why: two failed runs in the pool" "curl -s '$URL/' | grep -q 'The breaker is tripped:</b> 2 auto runs failed in pool'"
check "a run that would succeed is held too" "[ \$(post NodeSteady s2) = 200 ] && [ \$(action) = held ] && sleep 0.5 && [ \$(ls '$RBX_STATE_DIR'/runs | wc -l) -eq 3 ]"
check "an operator's reset closes it" "[ \$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Authorization: Bearer an-operator-token-0123456789' -H 'X-Rbx-Operator: alice' '$URL/breaker/reset') = 200 ] && ! tripped"
check "and the failures before it no longer count" "[ \$(post NodeFlaky f3) = 200 ] && [ \$(action) = started ]"
settle 4
check "(one failure since the reset: still closed)" "sleep 0.5; ! tripped"
check "--breaker-failures 0 is refused" "\"\$RBX\" serve --lab --listen 127.0.0.1:1 --breaker-failures 0 2>err.txt; [ \$? -eq 2 ] && grep -q 'breaker-failures' err.txt"
serve_stop
