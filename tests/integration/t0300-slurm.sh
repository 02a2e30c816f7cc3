# t0300-slurm: the guard on a real Slurm controller (slurmctld plus one slurmd
# answering for eight fake nodes, on loopback, auth/none). The nodes' steps run in
# the lab; their cordon and drain go through scontrol, as on a real cluster.
# (Only n01 has a slurmd of its own, so only jobs on n01 really run and end.)
. "$TOP/tests/integration/lib.sh"

if ! command -v slurmctld >/dev/null; then
	not_ok "slurmctld is needed (scripts/deps.sh check installs slurm-wlm)"
	exit 0
fi
S="$WORK/slurm"
mkdir -p "$S/state" "$S/spool" "$S/log"
P=$(test_port slurm)
cat > "$S/slurm.conf" <<CONF
ClusterName=rbxtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$P
SlurmdPort=$((P + 1))
AuthType=auth/none
CredType=cred/none
SlurmUser=root
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
NodeName=n[01-08] NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=1 RealMemory=1000 State=UNKNOWN
PartitionName=gpu Nodes=n[01-08] Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf" RBX_SLURM_POLL_MS=300
trap 'kill $(cat "$S/slurmctld.pid" "$S/slurmd.pid" 2>/dev/null) 2>/dev/null; finish' EXIT
slurmctld -c -i && slurmd -N n01
i=0
until [ "$(sinfo -N -n n02 -h -o %T 2>/dev/null)" = idle ]; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.2
done
check "slurmctld is up and n02 idle" "[ \"\$(sinfo -N -n n02 -h -o %T)\" = idle ]"

cat > inv.yaml <<INV
defaults: {transport: lab, scheduler: slurm}
nodes:
  - match: 'n[01-08]'
INV
# The node's state without sinfo's flag characters (idle* = idle, not responding).
state() { sinfo -N -n "$1" -h -o '%T|%E' | sed 's/[*~#!%$@^+-]*|/|/'; }
# The catalogue's runbook with a short drain deadline, so a regression cannot stall CI.
mkdir -p rb
sed 's/drain_timeout: 30m/drain_timeout: 60s/' "$TOP/runbooks/persistence-clock-bounce.yaml" > rb/persistence-clock-bounce.yaml
export RBX_RUNBOOKS="$WORK/rb"
running() { # running JOBID: wait until the job runs
	i=0
	until [ "$(squeue -j "$1" -h -o %T 2>/dev/null)" = RUNNING ]; do
		i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.2
	done
}

"$RBX" lab inject n03 persistence=off >/dev/null
expect_exit "a run on a Slurm node drains it and resumes it (exit 0)" 0 run persistence-clock-bounce --node n03 --inventory inv.yaml --format json
check "the journal shows DRAIN with the run's reason, then RESUME" "printf '%s' \"\$OUT\" | grep -q '\"op\":\"cordon\",\"status\":\"start\",\"backend\":\"slurm\",\"reason\":\"rbx:' && printf '%s' \"\$OUT\" | grep -q '\"op\":\"uncordon\",\"status\":\"ok\"'"
check "the node is idle again ($(state n03))" "[ \"\$(state n03)\" = 'idle|none' ]"

scontrol update NodeName=n04 State=DRAIN Reason="maintenance window"
"$RBX" lab inject n04 persistence=off >/dev/null
expect_exit "a node someone else drained is not taken over (exit 3)" 3 run persistence-clock-bounce --node n04 --inventory inv.yaml
check "the refusal shows their reason" "contains \"\$OUT\" 'maintenance window' && contains \"\$OUT\" -- '--adopt'"
check "their drain is untouched" "[ \"\$(state n04)\" = 'drained|maintenance window' ]"
expect_exit "--adopt takes it over and returns it" 0 run persistence-clock-bounce --node n04 --inventory inv.yaml --adopt
check "n04 is idle after the adopted run ($(state n04))" "[ \"\$(state n04)\" = 'idle|none' ]"

"$RBX" lab inject n05 persistence=broken >/dev/null
expect_exit "a failed run (exit 1)" 1 run persistence-clock-bounce --node n05 --inventory inv.yaml
check "leaves the node drained with a reason naming the run and FAILED" "state n05 | grep -qE '^drained\\|rbx:[^ ]+ persistence-clock-bounce FAILED\$'"

sbatch --parsable -w n01 --wrap 'sleep 5' > job.id
running "$(cat job.id)"
"$RBX" lab inject n01 persistence=off >/dev/null
# shellcheck disable=SC2034 # read by the check below, as it is evaluated
start=$(date +%s)
expect_exit "a drain waits for the node's job to end" 0 run persistence-clock-bounce --node n01 --inventory inv.yaml
check "it waited (at least 2 s)" "[ \$((\$(date +%s) - start)) -ge 2 ]"

cat > short.yaml <<'Y'
name: short
title: A drain with a short deadline
subsystem: scheduling
summary: The drain deadline passes while a job runs.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 2s}
procedure:
  - {name: p, ssh: nvidia-smi -L, undo: {name: u, ssh: nvidia-smi -L}}
verify:
  - {name: v, ssh: nvidia-smi -L}
references: [https://slurm.schedmd.com/scontrol.html]
Y
sbatch --parsable -w n07 --wrap 'sleep 30' > job2.id
running "$(cat job2.id)"
expect_exit "a drain past its deadline aborts (exit 3)" 3 run "$WORK/short.yaml" --node n07 --inventory inv.yaml
check "and gives the node back (RESUME): the job's node is not left drained" "state n07 | grep -qvE '^drain'"
scancel "$(cat job2.id)" 2>/dev/null

# Ctrl-C during a drain that waits on a running job stops at once, the node still drained.
sbatch --parsable -w n01 --wrap 'sleep 120' > job3.id
running "$(cat job3.id)"
"$RBX" lab inject n01 persistence=off >/dev/null
"$RBX" run persistence-clock-bounce --node n01 --inventory inv.yaml > intr.out 2>&1 &
pid=$!
wait_for 'guard drain start' intr.out
sleep 1
t0=$(date +%s%N)
kill -INT $pid
wait $pid
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "Ctrl-C in a waiting drain exits 130 ($rc)" "[ $rc -eq 130 ]"
check "within a second or two, not at the drain deadline (${ms} ms)" "[ $ms -lt 3000 ]"
check "the node is left drained with the run's reason ($(state n01))" "state n01 | grep -qE '^drain(ing|ed)?\\|rbx:'"
id=$(sed -n 's/.*rbx resume \([^ ]*\)$/\1/p' intr.out)
scancel "$(cat job3.id)" 2>/dev/null
expect_exit "the resume drains and finishes once the job is gone" 0 resume "$id"
check "n01 is idle again ($(state n01))" "[ \"\$(state n01)\" = 'idle|none' ]"

expect_exit "rbx plan names the backend and its exact calls" 0 plan persistence-clock-bounce --node n08 --inventory inv.yaml
check "the plan shows scontrol DRAIN and RESUME for n08" "contains \"\$OUT\" \"scontrol update NodeName='n08' State=DRAIN Reason='rbx:{{run.id}} persistence-clock-bounce'\" && contains \"\$OUT\" \"State=RESUME\""

# slurmctld stopped just before the uncordon: the repair held, the node stays drained,
# the run says so and exits 130; once slurmctld is back, `rbx resume` gives it back.
cat > rb/slow-verify.yaml <<'Y'
name: slow-verify
title: A repair whose proof takes a moment
subsystem: provisioning
summary: Resets the clocks, proves the GPUs slowly, and gives the node back.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 60s}
procedure:
  - {name: reset the clocks, ssh: nvidia-smi -rgc, timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
  - {name: a slow proof, ssh: sleep 4, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
"$RBX" run slow-verify --node n06 --inventory inv.yaml > down.out 2>&1 &
pid=$!
wait_for 'a slow proof' down.out
check "(the run reached its slow proof, the node drained: $(state n06))" "state n06 | grep -qE '^drain'"
ctld=$(cat "$S/slurmctld.pid")
kill "$ctld"
i=0; while kill -0 "$ctld" 2>/dev/null; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
wait $pid
rc=$?
check "with slurmctld down at the uncordon, the run stops: exit 130 ($rc)" "[ $rc -eq 130 ]"
check "it says the node stays cordoned and how to give it back" "grep -q 'the node is still cordoned; continue with:  rbx resume' down.out"
id=$(journal_ids -n06-)
check "its journal ends INTERRUPTED in RESTORE, not FAILED" "grep -q '\"from\":\"RESTORE\",\"to\":\"INTERRUPTED\"' '$RBX_STATE_DIR/runs/$id.jsonl' && ! grep -q '\"state\":\"FAILED\"' '$RBX_STATE_DIR/runs/$id.jsonl'"
slurmctld -i # back, from its saved state: n06 still drained under the run's reason
# Until it has settled its nodes again (as at the start: an untouched node idle).
i=0; until [ "$(sinfo -N -n n02 -h -o %T 2>/dev/null)" = idle ]; do i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.2; done
check "slurmctld is back and n06 is still drained by the run ($(state n06))" "state n06 | grep -qE '^drain(ed|ing)?\\|rbx:'"
expect_exit "the resume gives the node back" 0 resume "$id"
check "n06 is idle ($(state n06))" "i=0; until [ \"\$(state n06)\" = 'idle|none' ]; do i=\$((i + 1)); [ \$i -gt 50 ] && exit 1; sleep 0.2; done"
