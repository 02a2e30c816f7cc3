# t0166-silence-am-down: Alertmanager goes away while a run holds its silences. The run
# still ends as its steps decide (SUCCEEDED, the node back in service), journals which
# silences it could not expire and why, and says so; the silences end by themselves at
# the run's worst case (t0165 proves that part).
. "$TOP/tests/integration/lib.sh"

am_start || exit 0
printf 'alertmanager: {url: "%s"}\nnodes:\n  - {match: "k1", transport: lab}\n' "$AM" > inv.yaml
cat > quick.yaml <<'Y'
name: quick
title: A quick repair
subsystem: provisioning
summary: Holds the node a few seconds.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 2s}
procedure:
  - {name: hold on, ssh: sleep 3, timeout: 15s}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 5s}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 5s}
references: [https://example.invalid]
Y
"$RBX" run "$WORK/quick.yaml" --node k1 --inventory inv.yaml > run.out 2>&1 &
pid=$!
wait_for 'hold on' run.out
check "(the run silenced the node before its guard)" "[ \$(curl -sf '$AM/api/v2/silences' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -ge 1 ]"
kill "$AMPID"; wait "$AMPID" 2>/dev/null
check "(Alertmanager is gone)" "! curl -sf '$AM/-/ready' >/dev/null"
wait "$pid"
rc=$?
check "the run still ends as its steps decide: SUCCEEDED, exit 0 ($rc)" "[ $rc -eq 0 ] || { tail -n 10 run.out; false; }"
check "the node is back in service" "[ \"\$(lab_state k1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"sched\"][\"cordoned\"])')\" = False ]"
id=$(journal_ids k1)
check "the journal names each silence it could not expire, and why" "python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; e=[x for x in r if x.get(\"op\") == \"expired\"][0]; assert e[\"failed\"] and all(f[\"error\"] for f in e[\"failed\"]), e' '$RBX_STATE_DIR/runs/$id.jsonl'"
check "and the run says so: they end at their deadline" "grep -q 'silence expired (some could not be: they end at their deadline)' run.out"
