# t0100-catalogue: every runbook of the catalogue, in the lab, to its documented ends,
# through `rbx test runbooks` (the scenarios in runbooks/tests/, docs/testing.md): the
# whole catalogue passes with coverage complete (every step, both sides of every `when`,
# or a written waiver), its JUnit file holds what CI shows, and each run did exactly
# what `rbx plan` said it would. In CI the runbooks are shared between the two builds
# (share_pick), the other half from t0110's: each scenario runs once in each build.
. "$TOP/tests/integration/lib.sh"

ls "$TOP"/runbooks/*.yaml | share_pick 1 > books.txt
# shellcheck disable=SC2046 # one word a runbook: the paths are the tree's own, no spaces
"$RBX" test $(cat books.txt) --coverage --format json --junit junit.xml --keep "$WORK/keep" > res.json 2> err.txt
rc=$?
check "rbx test passes every scenario of the catalogue, coverage complete (exit $rc)" "[ $rc -eq 0 ] || { python3 -c 'import json; d=json.load(open(\"res.json\")); [print(s[\"runbook\"], s[\"scenario\"], s[\"why\"]) for s in d[\"scenarios\"] if not s[\"pass\"]]; [print(r[\"runbook\"], g) for r in d[\"coverage\"][\"runbooks\"] for g in r[\"gaps\"] if \"waived\" not in g]'; cat err.txt; false; }"
check "no runbook is without scenarios" "python3 -c 'import json,sys; d=json.load(open(\"res.json\")); sys.exit(1 if d[\"without_scenarios\"] else 0)'"
check "the JUnit file is what CI reads: a suite per runbook, a case per scenario" "python3 '$TOP/tests/tools/junit_check.py' junit.xml res.json"

# Each run did what its plan said: the same commands, targets and guard calls. ('|' parts
# the fields: a tab is whitespace to read, and would fold an empty one away.)
python3 - res.json > plans.txt <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["scenarios"]:
    print("|".join([s["state_dir"], s["runbook_path"], s["node"], " ".join("--param " + p for p in s["params"]), s["scenario"]]))
PY
while IFS='|' read -r dir rb node params name; do
	journal=$(ls "$dir"/runs/*.jsonl 2>/dev/null | head -n 1)
	# shellcheck disable=SC2086
	RBX_STATE_DIR="$dir" "$RBX" plan "$rb" --node "$node" --lab $params --format json > plan.json 2>/dev/null
	check "$(basename "$rb" .yaml) [$name]: the run did what its plan said" "[ -n '$journal' ] && python3 '$TOP/tests/tools/plan_vs_run.py' plan.json '$journal'"
done < plans.txt

# What every runbook's scenarios must hold: its fix and its failure, and a plan for n42.
verdicts() { python3 -c 'import json,sys; [print(s["runbook"], s["exit"], " ".join(s["faults"])) for s in json.load(open("res.json"))["scenarios"]]'; }
verdicts > verdicts.txt
while read -r f; do
	rb=$(basename "$f" .yaml)
	n=$(grep -c "^$rb " verdicts.txt)
	check "$rb has at least two lab scenarios ($n)" "[ $n -ge 2 ]"
	check "$rb has a plan for n42" "'$RBX' plan '$rb' --node n42 >/dev/null && '$RBX' plan '$rb' --node n42 --format json | python3 -c 'import json,sys; json.load(sys.stdin)'"
	# A fault must drive the runbook through rollback to FAILED, or down the RMA path
	# (exit 0, node kept out). gpu-job-pending changes nothing, so it has nothing to
	# roll back: its fault scenario stops before any change (exit 3).
	if [ "$rb" = gpu-job-pending ]; then
		check "$rb (read-only) has a scenario that stops with nothing changed" "grep -q '^$rb 3 ' verdicts.txt"
	else
		check "$rb has a scenario that ends FAILED through rollback, or on the RMA path" "grep -q '^$rb 1 ' verdicts.txt || python3 -c 'import sys; b=open(sys.argv[1]).read().split(\"  - name:\"); sys.exit(0 if any(\"exit: 0\" in x and \"node: cordoned\" in x for x in b) else 1)' '$TOP/runbooks/tests/$rb.yaml'"
	fi
done < books.txt
# A node without NVSwitches (no Fabric Manager) takes every driver runbook to SUCCEEDED.
for rb in driver-cuda-upgrade driver-module-load-failure kernel-upgrade-gpu-missing gsp-firmware-mismatch image-drift; do
	grep -q "/$rb.yaml\$" books.txt || continue
	check "$rb has a scenario on a PCIe node (no NVSwitch) that succeeds" "grep -q '^$rb 0 type=pcie-h100' verdicts.txt"
done
for rb in driver-cuda-upgrade image-drift add-gpu-capacity; do
	grep -q "/$rb.yaml\$" books.txt || continue
	check "fleet-wide $rb says it runs per node under rbx roll" "'$RBX' show $rb | grep -q 'rbx roll $rb --nodes'"
done
