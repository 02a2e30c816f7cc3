# t0600-serve: rbx serve answers the runbook link an alert carries: the runbook, the
# plan for the node with every command rendered, the node's last runs and the command
# to type; as HTML with every value escaped (and a CSP), or as JSON. Anything else is
# refused: paths that are not runbook names, bad node names, other methods, a missing
# token; and a non-loopback address without --insecure-http and a token.
. "$TOP/tests/integration/lib.sh"

P=9 # the refused listens below are refused before any bind
mkdir -p books
cp "$TOP/runbooks/gpu-fault.yaml" books/
sed 's/^name: gpu-fault$/name: hostile/; s/^title: .*/title: "<script>alert(1)<\/script> \& fix"/' "$TOP/runbooks/gpu-fault.yaml" > books/hostile.yaml
export RBX_RUNBOOKS="$WORK/books"
start_serve() { serve_start --lab "$@"; }
stop_serve() { serve_stop; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
"$RBX" run gpu-fault --node n42 --lab >/dev/null 2>&1
start_serve
curl -s -D headers.txt "$URL/runbooks/gpu-fault?node=n42" > page.html
check "the alert link shows the runbook for the node" "grep -q '<h1>GPU fault' page.html && grep -q '<h2>On n42</h2>' page.html"
check "the exact command to copy" "grep -q '<pre id=\"command\">rbx run gpu-fault --node n42 --lab</pre>' page.html"
check "the plan with every command rendered for the node" "grep -q 'on lab:n42' page.html && grep -q 'nvidia-smi -r -i' page.html"
check "and the node's last run, with how it ended" "grep -q '<td>gpu-fault</td><td>SUCCEEDED</td><td>in service</td>' page.html"
check "with a Content-Security-Policy and no caching" "grep -qi '^Content-Security-Policy: default-src .none.' headers.txt && grep -qi '^Cache-Control: no-store' headers.txt"
check "JSON to Accept: application/json" "curl -s -H 'Accept: application/json' '$URL/runbooks/gpu-fault?node=n42' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"command\"] == \"rbx run gpu-fault --node n42 --lab\" and d[\"plan\"][\"node\"] == \"n42\" and d[\"runs\"][0][\"end\"] == \"SUCCEEDED\", d'"
check "without a node, the runbook alone" "curl -s '$URL/runbooks/gpu-fault' | grep -q '<h1>GPU fault' && ! curl -s '$URL/runbooks/gpu-fault' | grep -q 'id=\"command\"'"
curl -s "$URL/runbooks/hostile?node=n42" > hostile.html
check "a title holding <script> shows as text" "grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; fix' hostile.html && ! grep -q '<script>' hostile.html"
check "a path that is not a runbook name: 404" "[ \$(status --path-as-is '$URL/runbooks/../../etc/passwd') = 404 ] && [ \$(status '$URL/runbooks/nope') = 404 ] && [ \$(status '$URL/runbooks/%2e%2e%2fetc') = 404 ]"
check "a node name that is not one: 400" "[ \$(status '$URL/runbooks/gpu-fault?node=n42;reboot') = 400 ] && [ \$(status '$URL/runbooks/gpu-fault?node=%24(id)') = 400 ]"
check "other methods: 405; other pages: 404" "[ \$(status -X POST '$URL/runbooks/gpu-fault') = 405 ] && [ \$(status '$URL/nope') = 404 ] && [ \$(status '$URL/runs/../x') = 404 ]"
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//' | head -n 1)
check "the node's run links to its journal" "grep -q \"<a href=\\\"/runs/\$id\\\">\" page.html"
curl -s "$URL/runs/$id" > run.html
check "/runs/ID renders the journal, ended, with no refresh" "grep -q '<td>run_end</td><td>SUCCEEDED, exit 0' run.html && grep -q ': ended.</p>' run.html && ! grep -q 'http-equiv=\"refresh\"' run.html"
check "and as JSON" "curl -s -H 'Accept: application/json' '$URL/runs/$id' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"ended\"] and d[\"records\"][0][\"type\"] == \"run_start\"'"
check "/nodes/N lists the node's runs" "curl -s '$URL/nodes/n42' | grep -q \"<a href=\\\"/runs/\$id\\\">\" && [ \$(status '$URL/nodes/n42%3Breboot') = 400 ]"
check "a run id that is not one: 404" "[ \$(status --path-as-is '$URL/runs/../../etc/passwd') = 404 ] && [ \$(status '$URL/runs/..%2F..%2Fetc%2Fpasswd') = 404 ] && [ \$(status '$URL/runs/20991231T000000Z-n1-abcdef') = 404 ]"
cat > books/slow.yaml <<'Y'
name: slow
title: A slow repair
subsystem: provisioning
summary: Holds the node for a few seconds.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 1m}
procedure:
  - {name: wait a little, ssh: sleep 4, timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
"$RBX" run slow --node n41 --lab > slow.out 2>&1 &
rpid=$!
wait_for 'wait a little' slow.out
live=$(journal_ids n41)
curl -s "$URL/runs/$live" > live.html
check "the dashboard lists the live run as RUNNING, linked" "curl -s '$URL/' | grep -q \"<a href=\\\"/runs/\$live\\\">\$live</a></td><td>slow</td><td><a href=\\\"/nodes/n41\\\">n41</a></td><td>RUNNING</td>\""
check "a live run's page says it goes on and refreshes itself" "grep -q 'still going' live.html && grep -q 'http-equiv=\"refresh\"' live.html && grep -q 'wait a little' live.html"
wait $rpid
check "and once it ended, says so" "curl -s '$URL/runs/$live' | grep -q ': ended.</p>'"
curl -s "$URL/metrics" > metrics.txt
check "/metrics counts the run by its end and the node as back in service" "grep -qx 'rbx_runs_total{runbook=\"gpu-fault\",state=\"SUCCEEDED\"} 1' metrics.txt && grep -qx 'rbx_node_held_cordoned{node=\"n42\"} 0' metrics.txt && grep -q '^rbx_step_duration_seconds_count{runbook=\"gpu-fault\"} [1-9]' metrics.txt"
if command -v promtool >/dev/null; then
	check "promtool check metrics accepts /metrics" "promtool check metrics < metrics.txt"
else
	not_ok "promtool is needed (scripts/deps.sh check installs prometheus)"
fi
stop_serve

printf 'short\n' > short.token
printf 'a-viewer-token-of-some-length\n' > viewer.token
start_serve --token-file viewer.token
check "with a token, a request without it: 401" "[ \$(status '$URL/runbooks/gpu-fault') = 401 ]"
check "with a wrong one: 401" "[ \$(status -H 'Authorization: Bearer a-viewer-token-of-some-lengtX' '$URL/runbooks/gpu-fault') = 401 ]"
check "with it: 200" "[ \$(status -H 'Authorization: Bearer a-viewer-token-of-some-length' '$URL/runbooks/gpu-fault') = 200 ]"
stop_serve
expect_exit "a non-loopback address without --insecure-http is refused" 2 serve --listen 0.0.0.0:$P
expect_exit "--insecure-http without a token is refused" 2 serve --listen 0.0.0.0:$P --insecure-http
expect_exit "a token under 16 characters is refused" 2 serve --listen 127.0.0.1:$P --token-file short.token
expect_exit "a bad listen address is refused" 2 serve --listen localhost

# TLS, with libmicrohttpd's own: a self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
start_serve --tls-cert cert.pem --tls-key key.pem
check "over TLS the page answers, verified against the certificate" "case '$URL' in https://*) ;; *) exit 1;; esac; curl -s --cacert cert.pem '$URL/runbooks/gpu-fault?node=n42' | grep -q '<h2>On n42</h2>'"
check "and plain HTTP on that port gets nothing" "[ \$(status --max-time 3 'http://${URL#https://}/healthz') = 000 ]"
stop_serve
expect_exit "TLS off loopback still wants a viewer token" 2 serve --listen 0.0.0.0:$P --tls-cert cert.pem --tls-key key.pem
expect_exit "a certificate without its key is refused" 2 serve --listen 127.0.0.1:$P --tls-cert cert.pem
