# tests/integration/etcd.sh - a real etcd (Debian's etcd-server) on loopback for a test.
# Sourced after lib.sh: etcd_start sets ETCD (the client URL); the EXIT trap stops it.
ETCD_PID=""

etcd_start() {
	if ! command -v etcd >/dev/null 2>&1; then
		echo "etcd is missing: scripts/deps.sh check installs etcd-server" >&2
		return 1
	fi
	# Ports from this shell's pid, so tests running side by side do not collide.
	cport=$(test_port etcd)
	pport=$((cport + 1))
	ETCD="http://127.0.0.1:$cport"
	etcd --name rbxtest --data-dir "$WORK/etcd" \
		--listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "rbxtest=http://127.0.0.1:$pport" \
		--heartbeat-interval=10 --election-timeout=100 >"$WORK/etcd.log" 2>&1 &
	ETCD_PID=$!
	trap 'etcd_stop; finish' EXIT
	i=0
	until etcd_call /v3/maintenance/status '{}' >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && { cat "$WORK/etcd.log" >&2; return 1; }
		sleep 0.1
	done
}

etcd_stop() {
	[ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=""
}

# etcd_call PATH JSON: POST to the v3 gateway, print the answer.
etcd_call() {
	python3 - "$ETCD$1" "$2" <<'P'
import sys, urllib.request
rq = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(rq, timeout=5).read().decode())
P
}

# etcd_count PREFIX: how many keys are under PREFIX.
etcd_count() {
	python3 - "$ETCD" "$1" <<'P'
import base64, json, sys, urllib.request
p = sys.argv[2].encode()
end = p[:-1] + bytes([p[-1] + 1])
body = json.dumps({"key": base64.b64encode(p).decode(), "range_end": base64.b64encode(end).decode(), "count_only": True})
rq = urllib.request.Request(sys.argv[1] + "/v3/kv/range", data=body.encode(), headers={"Content-Type": "application/json"})
print(int(json.load(urllib.request.urlopen(rq, timeout=5)).get("count", "0")))
P
}
