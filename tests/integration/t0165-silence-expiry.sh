# t0165-silence-expiry: a run killed with kill -9 leaves its silences in a real
# Alertmanager 0.25, and they expire by themselves at the run's worst case (a runbook
# whose worst case is about 80 s), so a crash never silences a node for ever.
. "$TOP/tests/integration/lib.sh"

am_start || exit 0
printf 'alertmanager: {url: "%s"}\nnodes:\n  - {match: "k1", transport: lab}\n' "$AM" > inv.yaml
cat > brief.yaml <<'Y'
name: brief
title: A brief repair
subsystem: provisioning
summary: Worst case about 20 s of steps, plus the drain and a minute.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 2s}
procedure:
  - {name: hold on, ssh: sleep 137, timeout: 15s}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 2s}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 2s}
references: [https://example.invalid]
Y
"$RBX" run "$WORK/brief.yaml" --node k1 --inventory inv.yaml > run.out 2>&1 &
pid=$!
wait_for 'hold on' run.out
kill -KILL "$pid"; wait "$pid" 2>/dev/null
pkill -f 'sleep 137$' 2>/dev/null
states() { curl -sf "$AM/api/v2/silences" | python3 -c 'import json,sys; print(" ".join(sorted(s["status"]["state"] for s in json.load(sys.stdin))))'; }
check "the killed run left its three silences active" "[ \"\$(states)\" = 'active active active' ]"
until=$(grep -o '"until": *"[^"]*"' "$RBX_STATE_DIR"/runs/*.jsonl | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')
check "its journal says until when ($until)" "[ -n '$until' ]"
# Wait past the deadline (at most 2 minutes), then ask Alertmanager.
left=$(python3 -c "import datetime,sys; u=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')); print(max(0, int((u - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 2))" "$until")
check "the deadline is the worst case, under two minutes away ($left s)" "[ $left -gt 20 ] && [ $left -lt 120 ]"
sleep "$left"
check "past it, Alertmanager shows them expired without anyone expiring them" "[ \"\$(states)\" = 'expired expired expired' ]"
