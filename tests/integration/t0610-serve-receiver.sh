# t0610-serve-receiver: rbx serve takes Alertmanager's webhook (POST /alertmanager, with
# the receiver's bearer token) and records each alert as an incident with its matched
# runbook and node, listed on the dashboard (GET /). A real Alertmanager 0.25 delivers
# to it end to end: an alert for a runbook on the auto list (read-only triage) becomes an
# auto run on a lab node, whose page shows how it ended. Bad input: no or a wrong token (401), not JSON or a bad field (400,
# the JSON path named), over 10 MB (413); none of them writes anything.
. "$TOP/tests/integration/lib.sh"

FX="$TOP/tests/fixtures/alertmanager"
TOKEN=a-receiver-token-0123456789
printf '%s\n' "$TOKEN" > recv.token
serve_start --lab --receiver-token-file recv.token --auto gpu-job-pending
post() { curl -s -o resp.json -w '%{http_code}' -XPOST "$@" "$URL/alertmanager"; }
count() { ls "$RBX_STATE_DIR/incidents" 2>/dev/null | wc -l; }

check "no token: 401, nothing recorded" "[ \$(post --data-binary @'$FX/firing-xid.json') = 401 ] && [ \$(count) -eq 0 ]"
check "a wrong token: 401" "[ \$(post -H 'Authorization: Bearer a-receiver-token-012345678X' --data-binary @'$FX/firing-xid.json') = 401 ] && [ \$(count) -eq 0 ]"
check "not JSON: 400, saying so" "[ \$(post -H 'Authorization: Bearer $TOKEN' --data-binary 'nope') = 400 ] && grep -q 'not JSON' resp.json && [ \$(count) -eq 0 ]"
sed 's/"Hostname":"n42"/"Hostname":42/' "$FX/firing-xid.json" > badtype.json
check "a label that is not a string: 400 naming its JSON path" "[ \$(post -H 'Authorization: Bearer $TOKEN' --data-binary @badtype.json) = 400 ] && grep -q 'alerts\\[0\\].labels.Hostname' resp.json && [ \$(count) -eq 0 ]"
head -c 11000000 /dev/zero | tr '\\0' ' ' > big.json
check "over 10 MB: 413" "[ \$(post -H 'Authorization: Bearer $TOKEN' --data-binary @big.json) = 413 ] && [ \$(count) -eq 0 ]"
check "the notification: 200, the incident matched to gpu-fault on n42" "[ \$(post -H 'Authorization: Bearer $TOKEN' --data-binary @'$FX/firing-xid.json') = 200 ] && python3 -c 'import json; d=json.load(open(\"resp.json\")); i=d[\"incidents\"][0]; assert (i[\"runbook\"], i[\"node\"], i[\"action\"]) == (\"gpu-fault\", \"n42\", \"waiting\"), d'"
check "recorded in the state dir, 0600" "[ \$(count) -eq 1 ] && [ \"\$(stat -c %a '$RBX_STATE_DIR'/incidents/*.json)\" = 600 ]"
curl -s "$URL/" > home.html
check "the dashboard lists it, linked to the runbook's page for the node" "grep -q '<a href=\"/runbooks/gpu-fault?node=n42\">gpu-fault</a></td><td>n42</td><td>waiting</td>' home.html"
check "and as JSON" "curl -s -H 'Accept: application/json' '$URL/' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"incidents\"][0][\"alertname\"] == \"GpuXidError\"'"
check "/metrics counts the webhook answers by status and the open incidents" "curl -s '$URL/metrics' > m.txt && grep -qx 'rbx_webhook_requests_total{code=\"200\"} 1' m.txt && grep -qx 'rbx_webhook_requests_total{code=\"401\"} 2' m.txt && grep -qx 'rbx_webhook_requests_total{code=\"400\"} 2' m.txt && grep -qx 'rbx_webhook_requests_total{code=\"413\"} 1' m.txt && grep -qx 'rbx_incidents_open 1' m.txt"
sed 's/"Hostname":"n42"/"Hostname":"<b>n42;reboot"/; s/da72c7ba56643c14/da72c7ba56643c15/g' "$FX/firing-xid.json" > hostile.json
check "a hostile node label is recorded as refused, and shown as text" "[ \$(post -H 'Authorization: Bearer $TOKEN' --data-binary @hostile.json) = 200 ] && grep -q '\"refused\"' resp.json && curl -s '$URL/' | grep -q '&lt;b&gt;n42;reboot' && ! curl -s '$URL/' | grep -q '<b>n42'"

# A body whose fault names bytes that are not UTF-8 (fuzz_serve's find): it once made no
# answer at all, and a NULL one killed the server.
check "a body with bytes that are not UTF-8: 400, and the server lives" "[ \$(post -H 'Authorization: Bearer $TOKEN' --data-binary @'$TOP/tests/fuzz/regress/serve/invalid-utf8-error.json') = 400 ] && python3 -c 'import json; json.load(open(\"resp.json\"))[\"error\"]' && curl -s '$URL/healthz' | grep -qx ok"

# End to end: a real Alertmanager delivers an alert posted to its API.
if command -v prometheus-alertmanager >/dev/null; then
	AP=$(test_port alertmanager)
	cat > am.yml <<Y
route: {receiver: rbx, group_by: [alertname, Hostname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: rbx
    webhook_configs:
      - url: $URL/alertmanager
        http_config: {authorization: {credentials: $TOKEN}}
Y
	prometheus-alertmanager --config.file=am.yml --storage.path="$WORK/am" --web.listen-address="127.0.0.1:$AP" \
		--cluster.listen-address= > am.log 2>&1 &
	# shellcheck disable=SC2034 # lib.sh's serve_start kills it at exit
	SERVE_ALSO=$!
	i=0; until curl -sf "http://127.0.0.1:$AP/-/ready" >/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
	curl -sf -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:$AP/api/v2/alerts" \
		-d '[{"labels":{"alertname":"GpuRowRemapFailure","Hostname":"n43","gpu":"1","severity":"critical"}}]' >/dev/null
	i=0; until grep -ql GpuRowRemapFailure "$RBX_STATE_DIR"/incidents/*.json 2>/dev/null; do i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.1; done
	check "Alertmanager's own delivery becomes an incident: gpu-fault on n43" "curl -s -H 'Accept: application/json' '$URL/' | python3 -c 'import json,sys; d=json.load(sys.stdin); i=[x for x in d[\"incidents\"] if x[\"alertname\"] == \"GpuRowRemapFailure\"][0]; assert (i[\"runbook\"], i[\"node\"], i[\"action\"]) == (\"gpu-fault\", \"n43\", \"waiting\"), i'"
	check "(and gpu-fault, not on the auto list, did not run)" "[ ! -d '$RBX_STATE_DIR/runs' ] || ! grep -qs gpu-fault '$RBX_STATE_DIR'/runs/*.jsonl"
	curl -sf -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:$AP/api/v2/alerts" \
		-d '[{"labels":{"alertname":"GpuJobsPendingTooLong","Hostname":"n44","severity":"warning"}}]' >/dev/null
	i=0; until grep -qs '"type":"run_end"' "$RBX_STATE_DIR"/runs/*.jsonl; do i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1; done
	check "an alert for gpu-job-pending (auto) becomes an incident that started a run" "curl -s -H 'Accept: application/json' '$URL/' | python3 -c 'import json,sys; d=json.load(sys.stdin); i=[x for x in d[\"incidents\"] if x[\"alertname\"] == \"GpuJobsPendingTooLong\"][0]; assert (i[\"runbook\"], i[\"node\"], i[\"action\"]) == (\"gpu-job-pending\", \"n44\", \"started\"), i'"
	RUN=$(grep -l '"runbook":"gpu-job-pending"' "$RBX_STATE_DIR"/runs/*.jsonl 2>/dev/null | head -1)
	RUN=$(basename "${RUN:-none}" .jsonl)
	check "the auto run ran on lab node n44 to SUCCEEDED, naming the alert" "grep -q '\"node\":\"n44\"' '$RBX_STATE_DIR/runs/$RUN.jsonl' && grep -q '\"state\":\"SUCCEEDED\"' '$RBX_STATE_DIR/runs/$RUN.jsonl' && grep -q 'rbx serve: alert [0-9a-f]* (GpuJobsPendingTooLong)' '$RBX_STATE_DIR/runs/$RUN.jsonl'"
	check "its page shows the run and how it ended" "curl -sf '$URL/runs/$RUN' > run.html && grep -q 'gpu-job-pending' run.html && grep -q 'n44' run.html && grep -q 'SUCCEEDED' run.html"
	check "and the runbook page for n44 lists it" "curl -sf '$URL/runbooks/gpu-job-pending?node=n44' | grep -q \"/runs/$RUN\""
else
	not_ok "prometheus-alertmanager is needed (scripts/deps.sh check installs it)"
fi

serve_stop
