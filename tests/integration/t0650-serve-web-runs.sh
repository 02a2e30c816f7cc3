# t0650-serve-web-runs: starting a run from rbx serve is off by default; when allowed it
# takes the operator's bearer token, a named operator and a JSON body (which no cookie or
# cross-site form supplies), and the run's journal says who asked.
. "$TOP/tests/integration/lib.sh"

printf 'an-operator-token-0123456789\n' > op.token
start_serve() { serve_start --lab --operator-token-file op.token "$@"; }
stop_serve() { serve_stop; }
ask() { curl -s -o resp.txt -w '%{http_code}' -XPOST "$@" "$URL/runs"; }
AUTH='Authorization: Bearer an-operator-token-0123456789'
JSON='Content-Type: application/json'

start_serve
check "off by default: 403" "[ \$(ask -H '$AUTH' -H 'X-Rbx-Operator: alice' -H '$JSON' -d '{\"runbook\":\"gpu-fault\",\"node\":\"n42\"}') = 403 ]"
stop_serve
start_serve --allow-web-runs
check "without the operator's token: 401" "[ \$(ask -H 'X-Rbx-Operator: alice' -H '$JSON' -d '{\"runbook\":\"gpu-fault\",\"node\":\"n42\"}') = 401 ]"
check "without saying who: 400" "[ \$(ask -H '$AUTH' -H '$JSON' -d '{\"runbook\":\"gpu-fault\",\"node\":\"n42\"}') = 400 ]"
check "as a form (what a cross-site page can post): 415" "[ \$(ask -H '$AUTH' -H 'X-Rbx-Operator: alice' -d 'runbook=gpu-fault&node=n42') = 415 ]"
check "a bad body: 400; an unknown runbook: 404" "[ \$(ask -H '$AUTH' -H 'X-Rbx-Operator: alice' -H '$JSON' -d '{\"runbook\":\"../x\",\"node\":\"n42\"}') = 400 ] && [ \$(ask -H '$AUTH' -H 'X-Rbx-Operator: alice' -H '$JSON' -d '{\"runbook\":\"nope\",\"node\":\"n42\"}') = 404 ]"
check "nothing ran for any of them" "[ ! -d '$RBX_STATE_DIR/runs' ] || [ -z \"\$(ls '$RBX_STATE_DIR/runs')\" ]"
"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
check "an operator's run: 202" "[ \$(ask -H '$AUTH' -H 'X-Rbx-Operator: alice' -H '$JSON' -d '{\"runbook\":\"gpu-fault\",\"node\":\"n42\"}') = 202 ]"
i=0; until grep -qs '"type":"run_end"' "$RBX_STATE_DIR"/runs/*.jsonl; do i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.1; done
check "it ran to SUCCEEDED, its journal saying who asked" "grep -q '\"requested_by\":\"rbx serve: operator alice\"' '$RBX_STATE_DIR'/runs/*.jsonl && grep -q '\"state\":\"SUCCEEDED\"' '$RBX_STATE_DIR'/runs/*.jsonl"
