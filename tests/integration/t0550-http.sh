# t0550-http: http: steps against a loopback server that records what it got.
# A value can never add a header or a JSON key; a secret in a URL never reaches
# the journal or an error; the lab reaches loopback addresses only, never a proxy.
. "$TOP/tests/integration/lib.sh"

cat > srv.py <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body}) + "\n")
        code = 500 if "fail" in self.path else 200
        self.send_response(code); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    do_GET = do_POST
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 srv.py port got.jsonl & srv=$!
trap 'kill $srv 2>/dev/null; finish' EXIT
i=0; until [ -s port ]; do i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1; done
P=$(cat port)

cat > h.yaml <<Y
name: h
title: HTTP values
subsystem: provisioning
summary: Values in headers, JSON bodies and URLs.
trigger: {summary: test}
params:
  note: {description: free text}
  n: {description: a number, default: '1'}
  token: {description: an API token, secret: true}
  path: {description: the path, default: 'ok'}
guard: {none: read-only}
procedure:
  - name: post
    mutates: false
    http:
      method: POST
      url: http://127.0.0.1:$P/{{params.path}}?token={{params.token}}
      headers: {X-Note: '{{params.note}}', Content-Type: application/json}
      body: '{"note": "{{params.note}}", "n": {{params.n}}}'
verify:
  - {name: v, ssh: 'true'}
references: [https://example.invalid]
Y
J() { ls -t "$RBX_STATE_DIR"/runs/*.jsonl | head -n 1; }

expect_exit "a plain request goes through" 0 run "$WORK/h.yaml" --node h1 --lab --param note=hello --param token=s3cr3t
check "the server got the JSON body as written" "python3 -c 'import json; r=[json.loads(l) for l in open(\"got.jsonl\")][-1]; assert json.loads(r[\"body\"])=={\"note\":\"hello\",\"n\":1}, r'"
check "the secret token is not in the journal" "! grep -q s3cr3t \"\$(J)\" && grep -q 'token=%2A%2A%2A' \"\$(J)\""
"$RBX" plan "$WORK/h.yaml" --node h1 --lab --param note=hello --param token=s3cr3t --format json > plan.json
check "the request sent is the one the plan showed (secret hidden in both)" "python3 '$TOP/tests/tools/plan_vs_run.py' plan.json \"\$(J)\" && ! grep -q s3cr3t plan.json"

before=$(wc -l < got.jsonl)
expect_exit "a CR/LF in a header value fails the step (exit 1)" 1 run "$WORK/h.yaml" --node h1 --lab --param "note=x
X-Admin: yes" --param token=t
check "saying a line break was refused" "contains \"\$OUT\" 'line break'"
check "and nothing was sent" "[ \$(wc -l < got.jsonl) -eq $before ]"

cat > h2.yaml <<Y
name: h2
title: HTTP JSON values
subsystem: provisioning
summary: Values in JSON bodies.
trigger: {summary: test}
params:
  note: {description: free text}
  n: {description: not checked, default: '1'}
guard: {none: read-only}
procedure:
  - name: post
    mutates: false
    http:
      method: POST
      url: http://127.0.0.1:$P/ok
      body: '{"note": "{{params.note}}", "n": {{params.n}}}'
verify:
  - {name: v, ssh: 'true'}
references: [https://example.invalid]
Y
expect_exit "hostile JSON values are sent" 0 run "$WORK/h2.yaml" --node h1 --lab --param 'note=a", "admin": true, "b": "\' --param 'n=1, "admin": true'
check "as data: the note whole, the number a string, no key added" "python3 -c 'import json; b=json.loads([json.loads(l) for l in open(\"got.jsonl\")][-1][\"body\"]); assert b=={\"note\": \"a\\\", \\\"admin\\\": true, \\\"b\\\": \\\"\\\\\", \"n\": \"1, \\\"admin\\\": true\"}, b'"

expect_exit "a failing request fails the step (exit 1)" 1 run "$WORK/h.yaml" --node h1 --lab --param note=x --param token=s3cr3t --param path=fail
check "its error keeps the secret out" "! grep -q s3cr3t \"\$(J)\" && ! contains \"\$OUT\$ERR\" s3cr3t"
sed -e "s#127.0.0.1:$P#127.0.0.1.nip.io:$P#" -e 's/^name: h2/name: far/' h2.yaml > far.yaml
expect_exit "the lab refuses a name that only looks like loopback (exit 1)" 1 run "$WORK/far.yaml" --node h1 --lab --param note=x
check "saying so" "contains \"\$OUT\" 'only loopback'"
before=$(wc -l < got.jsonl)
sed -e "s#127.0.0.1:$P#127.0.0.2:9#" -e 's/^name: h2/name: proxied/' h2.yaml > proxied.yaml
http_proxy=http://127.0.0.1:$P HTTP_PROXY=http://127.0.0.1:$P ALL_PROXY=http://127.0.0.1:$P \
	"$RBX" run "$WORK/proxied.yaml" --node h1 --lab --param note=x >/dev/null 2>&1
check "a proxy variable never carries a lab request (the proxy saw nothing)" "[ \$(wc -l < got.jsonl) -eq $before ]"
