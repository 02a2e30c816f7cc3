# t0100-catalogue: every runbook of the catalogue, in the lab, to its documented
# ends: the healthy or fixable case, and an injected fault through rollback.
# Each row: runbook | faults | extra rbx run args | exit | node after (in/out/-) | proof (shell, may use $S = lab state JSON)
. "$TOP/tests/integration/lib.sh"

scenarios() {
	grep -v '^#' "$TOP/tests/integration/catalogue.scenarios" | grep -v '^ *$'
}

run_row() {
	rb=$1 faults=$2 args=$3 want=$4 after=$5 proof=$6
	"$RBX" lab reset n42 >/dev/null
	# shellcheck disable=SC2086
	[ "$faults" = - ] || "$RBX" lab inject n42 $faults >/dev/null || { not_ok "$rb [$faults]: inject failed"; return; }
	title="$rb [$faults] ends with exit $want"
	# shellcheck disable=SC2086
	if run_rbx "$want" run "$rb" --node n42 --lab $args; then ok "$title"; else
		not_ok "$title" "exited $RC" "$(tail -n 25 "$WORK/out")"
		return
	fi
	# The run did what the plan said: the same commands, targets and guard reason.
	params=$(printf '%s\n' $args | awk 'p { print "--param", $0; p = 0 } $0 == "--param" { p = 1 }')
	# shellcheck disable=SC2086
	"$RBX" plan "$rb" --node n42 --lab $params --format json > "$WORK/plan.json"
	journal=$(ls -t "$RBX_STATE_DIR"/runs/*.jsonl | head -n 1)
	check "$rb [$faults]: the run did what its plan said" "python3 '$TOP/tests/tools/plan_vs_run.py' '$WORK/plan.json' '$journal'"
	S=$(lab_state n42)
	c=$(printf '%s' "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sched"]["cordoned"])')
	case "$after" in
	in) check "$rb [$faults]: the node is back in service" "[ '$c' = False ]" ;;
	out) check "$rb [$faults]: the node stays cordoned, its reason naming the run" "[ '$c' = True ] && printf '%s' \"\$S\" | grep -q '\"reason\": \"rbx:'" ;;
	esac
	export S
	check "$rb [$faults]: $proof" "$proof"
}

scenarios | while IFS='|' read -r rb faults args want after proof; do
	trim() { printf '%s' "$1" | sed 's/^ *//; s/ *$//'; }
	run_row "$(trim "$rb")" "$(trim "$faults")" "$(trim "$args")" "$(trim "$want")" "$(trim "$after")" "$(trim "$proof")"
	echo "$T_PASS $T_FAIL" > "$WORK/counts.partial"
done
# The loop ran in a subshell: take its counts.
read -r T_PASS T_FAIL < "$WORK/counts.partial"

# Every runbook has at least two scenarios (its fix and its failure), and a plan for n42.
for f in "$TOP"/runbooks/*.yaml; do
	rb=$(basename "$f" .yaml)
	n=$(scenarios | cut -d'|' -f1 | sed 's/ //g' | grep -cx "$rb")
	check "$rb has at least two lab scenarios ($n)" "[ $n -ge 2 ]"
	check "$rb has a plan for n42" "'$RBX' plan '$rb' --node n42 >/dev/null && '$RBX' plan '$rb' --node n42 --format json | python3 -c 'import json,sys; json.load(sys.stdin)'"
	# A fault must drive the runbook through rollback to FAILED, or down the RMA path
	# (exit 0, node kept out). gpu-job-pending changes nothing, so it has nothing to
	# roll back: its fault scenario stops before any change (exit 3).
	if [ "$rb" = gpu-job-pending ]; then
		check "$rb (read-only) has a scenario that stops with nothing changed" "scenarios | grep '^$rb ' | cut -d'|' -f4 | grep -qx ' 3 '"
	else
		check "$rb has a scenario that ends FAILED through rollback, or on the RMA path" "scenarios | grep '^$rb ' | awk -F'|' '\$4 == \" 1 \" || (\$4 == \" 0 \" && \$5 == \" out \")' | grep -q ."
	fi
done
# A node without NVSwitches (no Fabric Manager) takes every driver runbook to SUCCEEDED.
for rb in driver-cuda-upgrade driver-module-load-failure kernel-upgrade-gpu-missing gsp-firmware-mismatch image-drift; do
	check "$rb has a scenario on a PCIe node (no NVSwitch) that succeeds" "scenarios | grep '^$rb ' | awk -F'|' '\$2 ~ /type=pcie-h100/ && \$4 == \" 0 \"' | grep -q ."
done
for rb in driver-cuda-upgrade image-drift add-gpu-capacity; do
	check "fleet-wide $rb says it runs per node under rbx roll" "'$RBX' show $rb | grep -q 'rbx roll $rb --nodes'"
done
