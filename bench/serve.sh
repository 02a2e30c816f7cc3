#!/bin/sh
# bench/serve.sh - rbx serve's webhook: notification to recorded incident, latency and
# requests per second, against the same alerts posted to Alertmanager's own API
# (POST /api/v2/alerts) in the same run, one client, keep-alive off (as Alertmanager's).
# Usage: bench/serve.sh [N]   (default 500 posts each). Needs prometheus-alertmanager.
# RBX_WRAP='perf record -o F --' puts a profiler in front of rbx serve.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-500}
rbx="$top/build/release/rbx"
# One command on a fresh clone: what the bench needs (Debian packages), then the build.
"$top/scripts/deps.sh" build bench check && make -s -C "$top" rbx >/dev/null || exit 2
[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
work=$(mktemp -d "$top/build/bench.XXXXXX")
export RBX_STATE_DIR="$work/state" NO_COLOR=1 RBX_RUNBOOKS="$top/runbooks"
p=$((50000 + $$ % 4000))
printf 'a-receiver-token-0123456789\n' > "$work/recv.token"
${RBX_WRAP:-} "$rbx" serve --lab --listen "127.0.0.1:$p" --receiver-token-file "$work/recv.token" >"$work/serve.log" 2>&1 &
spid=$!
printf 'route: {receiver: none}\nreceivers: [{name: none}]\n' > "$work/am.yml"
prometheus-alertmanager --config.file="$work/am.yml" --storage.path="$work/am" \
	--web.listen-address="127.0.0.1:$((p + 1))" --cluster.listen-address= >"$work/am.log" 2>&1 &
apid=$!
trap 'kill $spid $apid 2>/dev/null; wait $spid $apid 2>/dev/null; rm -rf "$work"' EXIT
# Both must answer before the clock starts (Alertmanager takes a second or more to listen).
for port in $p $((p + 1)); do
	i=0; until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
		i=$((i + 1)); [ $i -gt 100 ] && { echo "port $port never answered:" >&2; cat "$work"/*.log >&2; exit 1; }; sleep 0.1
	done
done
python3 - "$p" "$n" "$top/tests/fixtures/alertmanager/firing-xid.json" "$RBX_STATE_DIR" <<'PY'
import http.client, json, os, statistics, sys, time
port, n, fixture, state = int(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3])), sys.argv[4]
def bench(path, body_of, headers, port):
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        s = time.perf_counter()
        c.request("POST", path, body=body_of(i), headers=headers)
        r = c.getresponse(); r.read()
        lat.append((time.perf_counter() - s) * 1000)
        assert r.status == 200, r.status
        c.close()
    wall = time.perf_counter() - t0
    lat.sort()
    return n / wall, statistics.median(lat), lat[int(n * 0.99) - 1]
def note(i):
    d = json.loads(json.dumps(fixture)); d["alerts"][0]["fingerprint"] = "%016x" % (0xbeef0000 + i)
    return json.dumps(d)
def api(i):
    return json.dumps([{"labels": dict(fixture["alerts"][0]["labels"], bench=str(i)),
                        "annotations": fixture["alerts"][0]["annotations"]}])
rbx = bench("/alertmanager", note, {"Authorization": "Bearer a-receiver-token-0123456789",
                                     "Content-Type": "application/json"}, port)
am = bench("/api/v2/alerts", api, {"Content-Type": "application/json"}, port + 1)
assert len(os.listdir(os.path.join(state, "incidents"))) == n
print("%-46s %10s %12s %12s" % ("", "req/s", "median ms", "p99 ms"))
print("%-46s %10.0f %12.2f %12.2f" % ("rbx serve POST /alertmanager -> incident", *rbx))
print("%-46s %10.0f %12.2f %12.2f" % ("Alertmanager 0.25 POST /api/v2/alerts", *am))
PY
