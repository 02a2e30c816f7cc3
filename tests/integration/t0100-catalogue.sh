# t0100-catalogue: every runbook of the catalogue, in the lab, to its documented
# ends: the healthy or fixable case, and an injected fault through rollback.
# Each row: runbook | faults | extra rbx run args | exit | node after (in/out/-) | proof (shell, may use $S = lab state JSON)
. "$TOP/tests/integration/lib.sh"

scenarios() {
cat <<'ROWS'
driver-cuda-upgrade | - | --yes | 0 | in | echo "$S" | grep -q '"driver": "560.35.03"' && echo "$S" | grep -q '"module_version": "560.35.03"'
driver-cuda-upgrade | apt=fail | | 1 | out | echo "$S" | grep -q '"driver": "550.90.07"'
driver-module-load-failure | module=mismatch | | 0 | in | echo "$S" | grep -q '"module_version": "550.90.07"'
driver-module-load-failure | module=unloaded xid=79 gpu=3 persistent | | 1 | out | echo "$S" | grep -q '"boot": 2'
driver-module-load-failure | module=unloaded secureboot=on | | 3 | in | echo "$S" | grep -q '"module_loaded": false'
driver-module-load-failure | - | | 3 | in | true
kernel-upgrade-gpu-missing | kernel=new | | 0 | in | echo "$S" | grep -q '"6.1.0-28-amd64": "550.90.07"'
kernel-upgrade-gpu-missing | kernel=new dkms=fail | | 1 | out | echo "$S" | grep -q '"kernel": "6.1.0-27-amd64"'
gsp-firmware-mismatch | gsp=mismatch | | 0 | in | echo "$S" | grep -q '"gsp_fw": "550.90.07"'
gsp-firmware-mismatch | gsp=mismatch persistent | | 1 | out | echo "$S" | grep -q '"gsp_fw": "550.54.15"'
persistence-clock-bounce | persistence=off | | 0 | in | echo "$S" | grep -q '"nvidia-persistenced": "active"'
persistence-clock-bounce | persistence=broken | | 1 | out | echo "$S" | grep -q '"nvidia-persistenced": "failed"'
ecc-toggle-recovery | xid=63 gpu=2 | | 0 | in | echo "$S" | python3 -c 'import json,sys; g=json.load(sys.stdin)["gpus"][2]; assert not g["remap_pending"]'
ecc-toggle-recovery | ecc=off gpu=5 | | 0 | in | echo "$S" | python3 -c 'import json,sys; g=json.load(sys.stdin)["gpus"][5]; assert g["ecc_mode"] == "Enabled"'
ecc-toggle-recovery | xid=64 remap=failed gpu=1 | --yes | 0 | out | echo "$S" | grep -q 'kept out (Decide on the RMA)'
ecc-toggle-recovery | xid=48 gpu=3 dcgm=fail | | 1 | out | echo "$S" | grep -q '"nvidia-dcgm": "active"'
thermal-emergency | temp=88 gpu=2 | --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"power_limit": 450'
thermal-emergency | temp=93 gpu=2 | --yes --param settle_seconds=0 | 0 | out | echo "$S" | grep -q '"powered_off": true'
thermal-emergency | temp=88 gpu=2 cooling=failed | --param settle_seconds=0 | 1 | out | ! echo "$S" | grep -q '"power_limit": 450'
stale-mig-state | mig=stale gpu=0 | | 0 | in | echo "$S" | python3 -c 'import json,sys; g=json.load(sys.stdin)["gpus"][0]; assert [x["profile"] for x in g["gis"]] == [3, 3]'
stale-mig-state | mig=stale mig=busy gpu=0 | | 1 | out | echo "$S" | python3 -c 'import json,sys; g=json.load(sys.stdin)["gpus"][0]; assert len(g["gis"]) == 7'
nccl-hang | ib=errors | --param job_id=4242 | 0 | out | echo "$S" | grep -q '"excluded": "n42"' && echo "$S" | grep -q '"requeues": 1'
nccl-hang | - | --param job_id=4242 | 3 | in | ! echo "$S" | grep -q '"excluded": "n42"'
nccl-hang | ib=errors job=pinned | --param job_id=4242 | 1 | out | echo "$S" | grep -q '"excluded": ""'
nvlink-p2p-failure | nvlink=down gpu=3 | | 0 | in | ! echo "$S" | grep -q '"nvlink_down": true'
nvlink-p2p-failure | nvlink=down gpu=3 persistent | | 1 | out | echo "$S" | grep -q '"boot": 2'
pcie-bandwidth-regression | pcie=downtrained gpu=1 | | 0 | in | echo "$S" | grep -q '"boot": 2'
pcie-bandwidth-regression | acs=on | | 0 | in | echo "$S" | grep -q '"acs": false'
pcie-bandwidth-regression | pcie=downtrained gpu=1 persistent | | 1 | out | echo "$S" | grep -q '"pcie_width": 8'
fabric-manager-failure | fm=down | | 0 | in | echo "$S" | grep -q '"nvidia-fabricmanager": "active"'
fabric-manager-failure | fm=mismatch | | 0 | in | echo "$S" | grep -q '"fm_version": "550.90.07"'
fabric-manager-failure | fm=broken | | 1 | out | echo "$S" | grep -q '"nvidia-fabricmanager": "failed"'
gpu-job-pending | - | --format json | 0 | in | grep -q '"diagnosis":"capacity: job 5121' "$WORK/out"
gpu-job-pending | plugin=6 | --format json | 0 | in | grep -q '"diagnosis":"broken-node: n42 has 8 GPUs, Slurm registered 8, the device plugin advertises 6"' "$WORK/out"
gpu-job-pending | slurm=down | | 3 | in | [ "$(echo "$S" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sched"]["history"]))')" = 0 ]
add-gpu-capacity | - | | 0 | in | echo "$S" | grep -q '"op": "uncordon"'
add-gpu-capacity | dcgm=fail | | 1 | out | echo "$S" | grep -q '"rbx.dev/burn-in": "failed"'
topology-unaware-scheduling | label=wrong | --param spine=spine-1 | 0 | in | echo "$S" | grep -q '"network.topology.rbx.dev/spine": "spine-1"'
topology-unaware-scheduling | label=wrong label=forbidden | --param spine=spine-1 | 1 | out | echo "$S" | grep -q '"network.topology.rbx.dev/spine": "spine-4"'
training-oom | stale_procs=2 gpu=1 | --param job_id=4242 --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"procs": \[\]' && echo "$S" | grep -q '"requeues": 1'
training-oom | - | --param job_id=4242 | 3 | in | true
training-oom | stale_procs=2 gpu=1 proc=unkillable | --param job_id=4242 --param settle_seconds=0 | 1 | out | echo "$S" | grep -q '"unkillable": true'
training-mfu-regression | clocks=low | | 0 | in | echo "$S" | grep -q '"clock_cap_mhz": 0'
training-mfu-regression | - | | 3 | in | true
training-mfu-regression | throttle=thermal | | 1 | out | echo "$S" | grep -q '"throttle": "thermal"'
checkpoint-resume | - | --param settle_seconds=0 --format json | 0 | in | grep -q '"resume":"step_2000"' "$WORK/out" && grep -q 'RESUME_FROM=.jobs/llm-7b/ckpt./.step_2000' "$WORK/out"
checkpoint-resume | loss=diverge | --param settle_seconds=0 | 1 | in | echo "$S" | grep -q '"resumed_from": "jobs/llm-7b/ckpt/step_1000"'
inference-slo-breach | slo=bad-deploy | --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"revision": 6'
inference-slo-breach | slo=capacity | --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"replicas": 8'
inference-slo-breach | slo=bad-deploy deploy=stuck | --param settle_seconds=0 | 1 | in | echo "$S" | grep -q '"revision": 7'
inference-slo-breach | kv=pressure | --param settle_seconds=0 | 3 | in | true
inference-kv-cache-oom | kv=pressure | --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"MAX_NUM_SEQS": "128"'
inference-kv-cache-oom | kv=pressure persistent | --param settle_seconds=0 | 1 | in | echo "$S" | grep -q '"MAX_NUM_SEQS": "256"'
oob-bmc-unreachable | bmc=hung | --param bmc=192.0.2.42 --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"alive": true'
oob-bmc-unreachable | bmc=misconfigured | --param bmc=192.0.2.42 --param settle_seconds=0 | 0 | in | echo "$S" | grep -q '"lan_ok": true'
oob-bmc-unreachable | bmc=dead | --param bmc=192.0.2.42 --param settle_seconds=0 | 1 | out | echo "$S" | grep -q '"dead": true'
image-drift | drift=driver | | 0 | in | echo "$S" | grep -q '"nvidia-driver-550": "550.90.07"'
image-drift | - | | 3 | in | true
image-drift | drift=driver apt=fail | | 1 | out | echo "$S" | grep -q '"nvidia-driver-550": "550.54.15"'
ROWS
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
