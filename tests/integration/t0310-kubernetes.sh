# t0310-kubernetes: the guard on Kubernetes against tests/k8s/fake_apiserver.py (no
# real API server can be installed here; it follows the real API for these calls):
# cordon by merge patch with the run's annotation, drain through the Eviction API
# (a PodDisruptionBudget's 429 is waited out, DaemonSet and mirror pods stay), a
# drain past its deadline, someone else's cordon, a failed run, and TLS with a
# client certificate from a test CA.
. "$TOP/tests/integration/lib.sh"

export RBX_K8S_POLL_MS=200
P=$(test_port k8s)
node() { printf '{"kind":"Node","apiVersion":"v1","metadata":{"name":"%s","annotations":{}},"spec":{}}' "$1"; }
pod() { # pod NAME NODE EXTRA-METADATA EXTRA-TOP
	printf '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"%s","namespace":"research"%s},"spec":{"nodeName":"%s"}%s}' "$1" "$3" "$2" "$4"
}
start_api() { # start_api STATE [args]: the fake API server on $P
	state=$1; shift
	# Emptied here: the child truncates api.out only once it runs, and the wait
	# below must not take the last server's "ready" for this one's.
	: > api.out
	python3 "$TOP/tests/k8s/fake_apiserver.py" "$state" "$P" "$@" > api.out 2>&1 &
	echo $! > api.pid
	wait_for ready api.out || return 1
}
stop_api() { kill "$(cat api.pid)" 2>/dev/null; sleep 0.2; }
trap 'stop_api; finish' EXIT
jq_node() { python3 -c "import json,sys; n=json.load(open('$1'))['nodes']['$2']; print(n.get('spec',{}).get('unschedulable', False), n['metadata'].get('annotations',{}).get('rbx.dev/run',''))"; }

cat > st.json <<J
{"nodes": {"k1": $(node k1), "k2": $(node k2), "k3": $(node k3)},
 "pods": [
  $(pod train-0 k1 '' ',"x-pdb-blocks":2'),
  $(pod dcgm-exporter-x k1 ',"ownerReferences":[{"kind":"DaemonSet","name":"dcgm-exporter"}]' ''),
  $(pod kube-proxy-k1 k1 ',"annotations":{"kubernetes.io/config.mirror":"abc"}' ''),
  $(pod serve-0 k2 '' ',"x-pdb-blocks":-1'),
  $(pod other k3 '' '')
 ]}
J
start_api st.json --token s3cr3t-token
cat > kubeconfig <<K
apiVersion: v1
kind: Config
current-context: test
clusters: [{name: c, cluster: {server: "http://127.0.0.1:$P"}}]
users: [{name: u, user: {token: s3cr3t-token}}]
contexts: [{name: test, context: {cluster: c, user: u}}]
K
cat > inv.yaml <<I
defaults: {transport: lab, scheduler: kubernetes, kubeconfig: $WORK/kubeconfig}
nodes:
  - match: 'k[1-3]'
I
# The catalogue's runbook with a short drain deadline, so a regression cannot stall CI.
mkdir -p rb
sed 's/drain_timeout: 30m/drain_timeout: 60s/' "$TOP/runbooks/persistence-clock-bounce.yaml" > rb/persistence-clock-bounce.yaml
export RBX_RUNBOOKS="$WORK/rb"
cp "$TOP/runbooks/persistence-clock-bounce.yaml" .
sed 's/drain_timeout: 30m/drain_timeout: 2s/' persistence-clock-bounce.yaml > short.yaml
sed -i 's/^name: persistence-clock-bounce/name: short/' short.yaml

"$RBX" lab inject k1 persistence=off >/dev/null
expect_exit "a run on a Kubernetes node cordons, drains and uncordons it (exit 0)" 0 run persistence-clock-bounce --node k1 --inventory inv.yaml --format json
check "the PodDisruptionBudget's 429s were waited out and the pod evicted" "grep -q 'research/train-0' st.json"
check "DaemonSet and mirror pods were left alone" "grep -q 'dcgm-exporter-x' st.json && grep -q 'kube-proxy-k1' st.json && ! grep -q 'research/dcgm' st.json"
check "cordon and uncordon were merge patches" "[ \$(grep -c 'application/merge-patch+json' st.json) -ge 2 ]"
check "the node is schedulable again, the annotation gone" "[ \"\$(jq_node st.json k1)\" = 'False ' ]"
check "the token never reached the journal" "! grep -rq 's3cr3t-token' \"\$RBX_STATE_DIR/runs\""

# The API server failing as real ones and the network between do: 500s (its etcd away),
# a reset connection, an answer past the timeout. Bounded retries with backoff, then a
# clean stop with nothing changed.
stop_api
cat > st-f.json <<J
{"nodes": {"k4": $(node k4), "k5": $(node k5), "k6": $(node k6)}, "pods": [],
 "faults": [{"path": "/api/v1/nodes/k4", "kind": "500", "times": 2},
            {"path": "/api/v1/pods", "kind": "reset", "times": 1},
            {"path": "/api/v1/nodes/k6", "kind": "timeout", "times": 1},
            {"path": "/api/v1/nodes/k5", "kind": "500", "times": 1000}]}
J
start_api st-f.json --token s3cr3t-token
sed 's/k\[1-3\]/k[1-9]/' inv.yaml > inv-f.yaml
"$RBX" lab inject k4 persistence=off >/dev/null
expect_exit "two 500s and a reset connection are retried: the run succeeds" 0 run persistence-clock-bounce --node k4 --inventory inv-f.yaml
check "(the node was read again after each 500: 3 GETs before the first went through)" "python3 -c 'import json; r=json.load(open(\"st-f.json\"))[\"requests\"]; g=[x for x in r if x[\"method\"] == \"GET\" and x[\"path\"] == \"/api/v1/nodes/k4\"]; assert len(g) >= 3, len(g)'"
check "k4 is schedulable again" "[ \"\$(jq_node st-f.json k4)\" = 'False ' ]"
"$RBX" lab inject k6 persistence=off >/dev/null
RBX_K8S_TIMEOUT_MS=1000 "$RBX" run persistence-clock-bounce --node k6 --inventory inv-f.yaml > k6.out 2>&1
rc=$?
check "an answer past the timeout is retried: the run succeeds ($rc)" "[ $rc -eq 0 ] || { tail -n 5 k6.out; false; }"
"$RBX" lab inject k5 persistence=off >/dev/null
t0=$(date +%s)
expect_exit "an API server that keeps answering 500 stops the run before any change (exit 3)" 3 run persistence-clock-bounce --node k5 --inventory inv-f.yaml
t1=$(date +%s)
check "after its bounded tries, in seconds ($((t1 - t0)) s), saying so" "[ $((t1 - t0)) -lt 20 ] && contains \"\$OUT\$ERR\" 'HTTP 500' "
check "k5 was never cordoned" "[ \"\$(jq_node st-f.json k5)\" = 'False ' ]"
check "(each call was tried 4 times, no more)" "python3 -c 'import json; r=json.load(open(\"st-f.json\"))[\"requests\"]; g=[x for x in r if x[\"path\"].startswith(\"/api/v1/nodes/k5\")]; assert len(g) % 4 == 0 and 0 < len(g) <= 8, len(g)'"
stop_api
start_api st.json --token s3cr3t-token

"$RBX" lab inject k2 persistence=off >/dev/null
expect_exit "a drain that a PodDisruptionBudget blocks past the deadline aborts (exit 3)" 3 run "$WORK/short.yaml" --node k2 --inventory inv.yaml
check "the message names the budget" "contains \"\$OUT\" 'PodDisruptionBudget'"
check "and the node is uncordoned again" "[ \"\$(jq_node st.json k2)\" = 'False ' ]"

python3 - st.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["nodes"]["k3"]["spec"]["unschedulable"] = True
s["nodes"]["k3"]["metadata"]["annotations"]["rbx.dev/run"] = "kernel upgrade by the platform team"
json.dump(s, open(sys.argv[1] + ".new", "w"))
PY
stop_api; mv st.json.new st.json; start_api st.json --token s3cr3t-token
"$RBX" lab inject k3 persistence=broken >/dev/null
expect_exit "a node someone else cordoned is not taken over (exit 3)" 3 run persistence-clock-bounce --node k3 --inventory inv.yaml
check "the refusal shows their reason" "contains \"\$OUT\" 'kernel upgrade by the platform team'"
expect_exit "--adopt, and the run fails (exit 1)" 1 run persistence-clock-bounce --node k3 --inventory inv.yaml --adopt
check "the failed run leaves it cordoned with an annotation naming the run and FAILED" "jq_node st.json k3 | grep -qE '^True rbx:[^ ]+ persistence-clock-bounce FAILED\$'"

sed -i 's/token: s3cr3t-token/token: wrong/' kubeconfig
"$RBX" lab inject k1 persistence=off >/dev/null
expect_exit "a wrong token is refused by the API (exit 3)" 3 run persistence-clock-bounce --node k1 --inventory inv.yaml
check "with the API's 401" "contains \"\$OUT\" 'HTTP 401'"
stop_api

# TLS with a client certificate from a test CA.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=rbx-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile san.ext 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=rbx 2>/dev/null
openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2 2>/dev/null
cat > st2.json <<J
{"nodes": {"k1": $(node k1)}, "pods": [$(pod train-1 k1 '' '')]}
J
start_api st2.json --tls srv.crt srv.key ca.crt
b64() { base64 -w0 "$1"; }
cat > kubeconfig <<K
apiVersion: v1
kind: Config
current-context: tls
clusters: [{name: c, cluster: {server: "https://127.0.0.1:$P", certificate-authority-data: $(b64 ca.crt)}}]
users: [{name: u, user: {client-certificate-data: $(b64 cli.crt), client-key-data: $(b64 cli.key)}}]
contexts: [{name: tls, context: {cluster: c, user: u}}]
K
"$RBX" lab reset k1 >/dev/null
"$RBX" lab inject k1 persistence=off >/dev/null
expect_exit "over TLS with a client certificate (exit 0)" 0 run persistence-clock-bounce --node k1 --inventory inv.yaml
check "the pod was evicted over TLS" "grep -q 'research/train-1' st2.json"
cp kubeconfig kubeconfig.tls
sed -i 's/client-key-data: .*}}]/client-key-data: ""}}]/' kubeconfig
expect_exit "without the client key the TLS handshake is refused (exit 3)" 3 run persistence-clock-bounce --node k1 --inventory inv.yaml
# File paths in a kubeconfig are relative to the kubeconfig, as kubectl reads them, not to the cwd.
mkdir -p kc elsewhere && cp ca.crt cli.crt cli.key kc/
sed -e 's#certificate-authority-data: [^}]*}#certificate-authority: ca.crt}#' \
	-e 's#client-certificate-data: [^,]*, client-key-data: [^}]*}#client-certificate: cli.crt, client-key: cli.key}#' kubeconfig.tls > kc/config
sed "s#kubeconfig: $WORK/kubeconfig#kubeconfig: $WORK/kc/config#" inv.yaml > inv-rel.yaml
"$RBX" lab reset k1 >/dev/null
"$RBX" lab inject k1 persistence=off >/dev/null
( cd elsewhere && "$RBX" run persistence-clock-bounce --node k1 --inventory ../inv-rel.yaml >../rel.out 2>&1 ); rc=$?
check "relative certificate files are found beside the kubeconfig, from any cwd ($rc)" "[ $rc -eq 0 ] || { tail -5 rel.out; exit 1; }"
expect_exit "rbx plan names the API calls" 0 plan persistence-clock-bounce --node k1 --inventory inv.yaml
check "PATCH, the pod list and the Eviction API" "contains \"\$OUT\" 'PATCH https://127.0.0.1:$P/api/v1/nodes/k1' && contains \"\$OUT\" 'eviction'"
