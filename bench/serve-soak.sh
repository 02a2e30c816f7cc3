#!/bin/sh
# bench/serve-soak.sh - rbx serve under a steady webhook load: RATE posts a minute for
# MINUTES minutes, each a new alert, RSS sampled every 30 s; every post must be answered
# 200 and become an incident on disk (nothing lost), and RSS must stay flat.
# Usage: bench/serve-soak.sh [MINUTES] [RATE]   (default 5 1000, the long form of t0640).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-5}
rate=${2:-1000}
rbx="$top/build/release/rbx"
# One command on a fresh clone: what the bench needs (Debian packages), then the build.
"$top/scripts/deps.sh" build bench check && make -s -C "$top" rbx >/dev/null || exit 2
[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
work=$(mktemp -d "$top/build/soak.XXXXXX")
export RBX_STATE_DIR="$work/state" NO_COLOR=1 RBX_RUNBOOKS="$top/runbooks"
p=$((54000 + $$ % 4000))
printf 'a-receiver-token-0123456789\n' > "$work/recv.token"
"$rbx" serve --lab --listen "127.0.0.1:$p" --receiver-token-file "$work/recv.token" >"$work/serve.log" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; rm -rf "$work"' EXIT
i=0; until curl -s -o /dev/null "http://127.0.0.1:$p/healthz"; do
	i=$((i + 1)); [ $i -gt 100 ] && { cat "$work/serve.log" >&2; exit 1; }; sleep 0.1
done
python3 - "$p" "$minutes" "$rate" "$top/tests/fixtures/alertmanager/firing-xid.json" "$RBX_STATE_DIR" "$spid" <<'PY'
import http.client, json, os, sys, time
port, minutes, rate = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
fixture, state, pid = json.load(open(sys.argv[4])), sys.argv[5], sys.argv[6]
def rss_kb():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
total = int(minutes * rate)
gap = 60.0 / rate
samples, bad = [(0.0, rss_kb())], 0
t0 = time.monotonic()
for i in range(total):
    due = t0 + i * gap
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    d = json.loads(json.dumps(fixture))
    d["alerts"][0]["fingerprint"] = "%016x" % (0x50a40000 + i)
    d["alerts"][0]["labels"]["Hostname"] = "n%d" % (i % 200)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/alertmanager", body=json.dumps(d), headers={
        "Authorization": "Bearer a-receiver-token-0123456789", "Content-Type": "application/json"})
    r = c.getresponse(); r.read(); c.close()
    bad += r.status != 200
    if time.monotonic() - t0 >= len(samples) * 30:
        samples.append((time.monotonic() - t0, rss_kb()))
wall = time.monotonic() - t0
samples.append((wall, rss_kb()))
on_disk = len(os.listdir(os.path.join(state, "incidents")))
print("posts %d in %.0f s (%.0f a minute), answered other than 200: %d, incidents on disk: %d"
      % (total, wall, total / wall * 60, bad, on_disk))
print("RSS (KiB) every 30 s: " + " ".join("%d" % kb for _, kb in samples))
first = samples[1][1] if len(samples) > 2 else samples[0][1]
print("RSS growth after the first 30 s: %+d KiB" % (samples[-1][1] - first))
sys.exit(0 if bad == 0 and on_disk == total else 1)
PY
