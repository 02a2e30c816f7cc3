# t0500-resume-target: a resume goes to the node the run started on, through the
# same transport and guard backend, or not at all (the guard it holds is that one's).
. "$TOP/tests/integration/lib.sh"

cat > slow.yaml <<'Y'
name: slow
title: A slow step
subsystem: provisioning
summary: Holds the node for a while.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: wait a while
    ssh: sleep 30
    idempotent: true
  - {name: mark, ssh: echo x >> repairs.txt, idempotent: true}
verify:
  - {name: one repair, ssh: test -s repairs.txt}
rollback:
  - {name: r, ssh: nvidia-smi -L}
references: [https://example.invalid]
Y
mkdir -p site
cat > site/guard.sh <<'SH'
#!/bin/sh
echo "$1 $2" >> "$(dirname "$0")/calls.log"
[ "$1" = state ] && echo "0 0"
exit 0
SH
chmod +x site/guard.sh
cat > inv.yaml <<I
defaults:
  transport: lab
  scheduler: command
  cordon_command: $WORK/site/guard.sh cordon {{node}}
  drain_command: $WORK/site/guard.sh drain {{node}}
  uncordon_command: $WORK/site/guard.sh uncordon {{node}}
  state_command: $WORK/site/guard.sh state {{node}}
nodes:
  - match: 'r[1-3]'
I

interrupt_run() { # node, extra args: start a run, SIGTERM it inside "wait a while"
	n=$1; shift
	: > run.out # emptied before the run starts: grep must not see the previous run's lines
	"$RBX" run "$WORK/slow.yaml" --node "$n" "$@" > run.out 2>&1 &
	pid=$!
	wait_for 'wait a while' run.out
	kill -TERM "$pid"; wait "$pid"
	journal_ids "-$n-"
}

# 1. A lab run, resumed with an inventory whose node has another guard backend.
id=$(interrupt_run r1 --lab)
check "the lab run stopped in PROCEDURE, cordoned in the lab" "[ \"\$(sched_field r1 cordoned)\" = True ]"
expect_exit "a resume onto another target (the inventory's command guard) is refused (exit 2)" 2 resume "$id" --inventory inv.yaml
check "it names both targets" "contains \"\$ERR\" 'lab:r1' && contains \"\$ERR\" 'command'"
check "the inventory's guard saw nothing at all" "[ ! -e site/calls.log ]"
expect_exit "the resume on its own target finishes it" 0 resume "$id"
check "and the lab node is back in service" "[ \"\$(sched_field r1 cordoned)\" = False ]"

# 2. An inventory run whose node entry changes between crash and resume.
id=$(interrupt_run r2 --inventory inv.yaml)
check "the inventory run holds the site guard" "grep -q '^cordon r2' site/calls.log"
sed 's/transport: lab/transport: ssh\n  host: 127.0.0.9/' inv.yaml > inv2.yaml
printf '  - {match: r2, transport: ssh, host: 127.0.0.9, user: nobody}\n' >> inv2.yaml
expect_exit "a resume after the node's entry changed is refused (exit 2)" 2 resume "$id" --inventory inv2.yaml
check "it says the target changed" "contains \"\$ERR\" 'changed'"
printf '  - {match: r3, labels: {rack: b}}\n' >> inv.yaml
expect_exit "another node's entry may change: the resume goes on" 0 resume "$id"
check "through the same guard (uncordon r2 last)" "tail -n 1 site/calls.log | grep -q '^uncordon r2'"
