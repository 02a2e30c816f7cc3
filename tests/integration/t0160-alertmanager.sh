# t0160-alertmanager: runs and rolls with a real Alertmanager 0.25 (Debian's
# prometheus-alertmanager, on loopback). A run silences its node's alerts before the
# guard, intent journaled first; the silence names the run and ends at the run's worst
# case; success and failure both expire it; a kill -9 leaves it to end by itself, and
# resume reuses it; an Alertmanager that does not answer stops the run before the guard
# (exit 3). Blocking alerts hold the guard back; a roll halts on a canary's alert.
. "$TOP/tests/integration/lib.sh"

am_start || exit 0
check "Alertmanager answers on loopback" "curl -sf '$AM/-/ready'"
printf 'alertmanager: {url: "%s"}\nnodes:\n  - {match: "n[40-49]", transport: lab}\n' "$AM" > inv.yaml
silences() { curl -sf "$AM/api/v2/silences"; }
# silences_of RUN: state, matchers, comment, createdBy and endsAt of the run's silences
silences_of() { silences | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if sys.argv[1] in s["comment"]:
        m = s["matchers"][0]
        print(s["status"]["state"], m["name"], m["value"], m["isRegex"], s["createdBy"], s["endsAt"], s["comment"], sep="|")
' "$1"; }
last_run() { ls -t "$RBX_STATE_DIR/runs" | head -n 1 | sed 's/.jsonl$//'; }

# 1. A run that succeeds: three silences (Hostname, node, instance), expired at the end.
"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
expect_exit "a run with an Alertmanager in the inventory succeeds" 0 run gpu-fault --node n42 --inventory inv.yaml
id=$(last_run)
silences_of "$id" > s1.txt
check "it created a silence per node label, each naming the run, the runbook and the node, by rbx" "python3 - s1.txt '$id' <<'PY'
import sys
rows = [l.rstrip('\\n').split('|') for l in open(sys.argv[1])]
got = sorted((r[1], r[2], r[3]) for r in rows)
assert got == [('Hostname', 'n42', 'False'), ('instance', r'n42(\\..*)?(:[0-9]+)?', 'True'), ('node', 'n42', 'False')], got
assert all(r[4] == 'rbx' and r[6] == 'rbx run %s: runbook gpu-fault on n42' % sys.argv[2] for r in rows), rows
PY"
check "and expired them all when it succeeded" "! grep -v '^expired|' s1.txt"
check "the journal has the intent before the silences, and both before the cordon" "python3 - '$RBX_STATE_DIR/runs/$id.jsonl' <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ops = [(r['type'], r.get('op'), r.get('status')) for r in recs]
create = ops.index(('silence', 'create', None)); created = ops.index(('silence', 'created', None))
cordon = next(i for i, o in enumerate(ops) if o[0] == 'guard' and o[1] == 'cordon')
assert create < created < cordon, ops
assert len(recs[created]['ids']) == 3
expire = ops.index(('silence', 'expire', None)); assert expire < [i for i, o in enumerate(ops) if o[0] == 'run_end'][0]
PY"
check "the silences ended at the journaled deadline, the run's worst case (hours for gpu-fault)" "python3 - '$RBX_STATE_DIR/runs/$id.jsonl' <<'PY'
import json, sys, datetime
recs = [json.loads(l) for l in open(sys.argv[1])]
c = next(r for r in recs if r['type'] == 'silence' and r['op'] == 'create')
until = datetime.datetime.fromisoformat(c['until'].replace('Z', '+00:00'))
start = datetime.datetime.fromisoformat(recs[0]['ts'].replace('Z', '+00:00')) if 'ts' in recs[0] else None
assert until > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2), until
PY"

# 2. A run that fails: the silences expire too (on-call sees the failure); the node stays out.
"$RBX" lab reset n43 >/dev/null
"$RBX" lab inject n43 xid=48 gpu=3 dcgm=fail >/dev/null
expect_exit "a failed run" 1 run gpu-fault --node n43 --inventory inv.yaml
id=$(last_run)
check "expired its silences as well, and left the node cordoned" "[ \$(silences_of '$id' | grep -c '^expired|') -eq 3 ] && [ \"\$(sched_field n43 cordoned)\" = True ]"

# 3. kill -9 mid-step: the silences stay active until their deadline; resume reuses them.
cat > slow.yaml <<'Y'
name: slow
title: A slow step
subsystem: provisioning
summary: Holds the node for a while.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 1m}
procedure:
  - name: wait a while
    ssh: sleep 127
    timeout: 3m
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
"$RBX" run "$WORK/slow.yaml" --node n44 --inventory inv.yaml > slow.out 2>&1 &
pid=$!
wait_for 'wait a while' slow.out
kill -KILL "$pid"; wait "$pid" 2>/dev/null
pkill -f 'sleep 127$' 2>/dev/null # the killed run's step, left running
id=$(last_run)
silences_of "$id" > s3.txt
check "after kill -9 the run's silences are still active" "[ \$(grep -c '^active|' s3.txt) -eq 3 ]"
check "and end by themselves at the run's worst case: 1m drain + 3m step + 1m verify + 1m rollback + 1m, about 7 minutes" "python3 - s3.txt <<'PY'
import sys, datetime
now = datetime.datetime.now(datetime.timezone.utc)
for line in open(sys.argv[1]):
    end = datetime.datetime.fromisoformat(line.split('|')[5].replace('Z', '+00:00'))
    assert now + datetime.timedelta(minutes=6) < end < now + datetime.timedelta(minutes=8), end
PY"
expect_exit "rbx resume finishes the run (the step in doubt taken as done)" 0 resume "$id" --assume-done
check "reusing its silences: none new, all three expired at the end" "[ \$(silences | python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin) if \"$id\" in s[\"comment\"]))') -eq 3 ] && [ \$(silences_of '$id' | grep -c '^expired|') -eq 3 ]"

# 4. Alertmanager does not answer: the run stops before the guard (exit 3), the node as it was.
printf 'alertmanager: {url: "http://127.0.0.1:9"}\nnodes:\n  - {match: "n[40-49]", transport: lab}\n' > down.yaml
"$RBX" lab inject n45 xid=48 gpu=3 >/dev/null
expect_exit "an unreachable Alertmanager stops the run before the guard" 3 run gpu-fault --node n45 --inventory down.yaml
check "(it says why, and the node was never cordoned)" "contains \"\$OUT\$ERR\" \"cannot silence n45's alerts before the guard\" && [ \"\$(sched_field n45 cordoned)\" = False ] && ! grep -q '\"op\": *\"cordon\"' '$RBX_STATE_DIR/runs/'\$(last_run).jsonl"
printf 'alertmanager: {url: "http://127.0.0.1:9", optional: true}\nnodes:\n  - {match: "n[40-49]", transport: lab}\n' > optional.yaml
expect_exit "unless the inventory makes silences optional" 0 run gpu-fault --node n45 --inventory optional.yaml
check "(the journal says it went without)" "grep -q '\"op\": *\"skipped\"' '$RBX_STATE_DIR/runs/'\$(last_run).jsonl || grep -q '\"op\":\"skipped\"' '$RBX_STATE_DIR/runs/'\$(last_run).jsonl"

# 5. A bad alertmanager entry is refused with file:line:col.
printf 'alertmanager: {url: "http://127.0.0.1:9/", optional: maybe}\nnodes:\n  - {match: "n1", transport: lab}\n' > bad.yaml
expect_exit "a bad alertmanager entry in the inventory is refused" 2 run gpu-fault --node n1 --inventory bad.yaml
check "(file:line:col)" "contains \"\$ERR\" 'bad.yaml:1:[0-9]*: error: alertmanager needs'"

# 6. Alert gates: no guard while a blocking alert fires on the node or its pool.
post_alert() { curl -sf -XPOST -H 'Content-Type: application/json' "$AM/api/v2/alerts" -d "$1" >/dev/null; }
resolve_alert() { post_alert "[{\"labels\":$1,\"endsAt\":\"$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)\"}]"; }
printf 'alertmanager: {url: "%s", blocking_alerts: [PoolBusy], gate_timeout: 3s}\nnodes:\n  - {match: "n[40-49]", transport: lab, labels: {pool: p1}}\n  - {match: "m1", transport: lab, labels: {pool: p2}}\n' "$AM" > gate.yaml
post_alert '[{"labels":{"alertname":"PoolBusy","pool":"p1"}}]'
"$RBX" lab reset n46 >/dev/null; "$RBX" lab inject n46 xid=48 gpu=3 >/dev/null
expect_exit "a blocking alert on the node's pool holds the guard back, then stops the run" 3 run gpu-fault --node n46 --inventory gate.yaml
check "(it names the alert; the wait is journaled; the node was never cordoned or silenced)" "contains \"\$OUT\$ERR\" 'blocking alert PoolBusy still fires on n46 or its pool' && grep -q '\"op\": *\"wait\"' '$RBX_STATE_DIR/runs/'\$(last_run).jsonl && grep -q '\"op\": *\"timeout\"' '$RBX_STATE_DIR/runs/'\$(last_run).jsonl && ! grep -q '\"type\": *\"silence\"' '$RBX_STATE_DIR/runs/'\$(last_run).jsonl && [ \"\$(sched_field n46 cordoned)\" = False ]"
"$RBX" lab inject m1 xid=48 gpu=3 >/dev/null
expect_exit "a node of another pool is not held back" 0 run gpu-fault --node m1 --inventory gate.yaml
printf 'alertmanager: {url: "%s", blocking_alerts: [PoolBusy], gate_timeout: 30s}\nnodes:\n  - {match: "n[40-49]", transport: lab, labels: {pool: p1}}\n' "$AM" > gate30.yaml
"$RBX" lab reset n47 >/dev/null; "$RBX" lab inject n47 xid=48 gpu=3 >/dev/null
"$RBX" run gpu-fault --node n47 --inventory gate30.yaml > gate.out 2>&1 &
gpid=$!
wait_for 'gate: waiting while PoolBusy' gate.out
check "a run waits while the alert fires, and shows it" "grep -q 'gate: waiting while PoolBusy fires on the node or its pool' gate.out && [ \"\$(sched_field n47 cordoned)\" = False ]"
resolve_alert '{"alertname":"PoolBusy","pool":"p1"}'
wait $gpid
rc=$?
check "once it is resolved the run goes on and succeeds ($rc)" "[ $rc -eq 0 ] && grep -q 'gate clear' gate.out && grep -q 'end SUCCEEDED' gate.out"
cat > blocked.yaml <<'Y'
name: blocked
title: A runbook with its own blocking alert
subsystem: provisioning
summary: Holds the node for a moment.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 1m, blocking_alerts: [TrainingCheckpointing]}
procedure:
  - {name: reset the clocks, ssh: nvidia-smi -rgc, timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
printf 'alertmanager: {url: "%s", gate_timeout: 2s}\nnodes:\n  - {match: "n[40-49]", transport: lab}\n' "$AM" > own.yaml
post_alert '[{"labels":{"alertname":"TrainingCheckpointing","instance":"n48.dc1.example.com:9100"}}]'
expect_exit "a runbook's own blocking alert, on the node by its instance label, holds it back" 3 run "$WORK/blocked.yaml" --node n48 --inventory own.yaml
check "(named)" "contains \"\$OUT\$ERR\" 'blocking alert TrainingCheckpointing still fires on n48'"

# 7. A roll with a canary gate: it halts when a node it did fires the alert, resumes after.
printf 'alertmanager: {url: "%s"}\nnodes:\n  - {match: "c[1-4]", transport: lab}\n' "$AM" > roll.yaml
post_alert '[{"labels":{"alertname":"GpuXidError","Hostname":"c1","severity":"critical"}}]'
expect_exit "a roll halts when a node it already did fires the alert" 1 roll "$WORK/blocked.yaml" --nodes 'c[1-4]' --batch 1 --inventory roll.yaml --halt-on-alert alertname=GpuXidError
roll=$(journal_ids '' "$RBX_STATE_DIR/rolls" | tail -n 1)
check "(it names the node and the alert, and the others did not start)" "contains \"\$OUT\" 'halting: GpuXidError fires on c1, which this roll already did' && contains \"\$OUT\" 'c2 *NOT_STARTED'"
expect_exit "resumed while the alert still fires, it halts again" 1 resume "$roll"
resolve_alert '{"alertname":"GpuXidError","Hostname":"c1","severity":"critical"}'
expect_exit "once it is resolved, rbx resume finishes the roll" 0 resume "$roll"
check "(every node succeeded)" "contains \"\$OUT\" '4 succeeded, 0 failed'"
expect_exit "--halt-on-alert without an Alertmanager in the inventory is refused" 2 roll "$WORK/blocked.yaml" --nodes 'n[40-41]' --inventory "$WORK/down.yaml.none" --halt-on-alert alertname=X
expect_exit "--halt-on-alert that is not label=value is refused" 2 roll "$WORK/blocked.yaml" --nodes 'c[1-2]' --inventory roll.yaml --halt-on-alert 'alertname'
