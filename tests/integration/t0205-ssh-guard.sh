# t0205-ssh-guard: the real sshd is killed while the guard drains the node (after the
# pre-checks have connected). The run must not count a step as run, must keep the node
# cordoned and say so, and a resume once sshd is back must finish the repair.
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/sshd.sh"

sshd_ready || exit 0

# The site's guard: state in a file; the drain says it started, then takes two seconds.
cat > guard.sh <<'SH'
#!/bin/sh
f=$(dirname "$0")/guard.state
[ -f "$f" ] || echo "0 0 " > "$f"
case $1 in
state) cat "$f" ;;
cordon) echo "1 0 $RBX_REASON" > "$f" ;;
drain) read -r c d r < "$f"; echo "1 1 $r" > "$f"; touch "$(dirname "$0")/draining"; sleep 2 ;;
uncordon) echo "0 0 " > "$f"; echo uncordoned >> "$(dirname "$0")/guard.log" ;;
esac
SH
chmod +x guard.sh

for mode in ssh ssh-exec; do
	rm -f guard.state draining guard.log
	cat > "inv-$mode.yaml" <<INV
defaults:
  user: root
  port: $SSHD_PORT
  identity: $SSHD_DIR/client_key
  known_hosts: $SSHD_DIR/known_hosts
  connect_timeout: 2s
nodes:
  - match: 'box'
    host: 127.0.0.1
    transport: $mode
    scheduler: command
    cordon_command: $WORK/guard.sh cordon {{node}}
    drain_command: $WORK/guard.sh drain {{node}}
    uncordon_command: $WORK/guard.sh uncordon {{node}}
    state_command: $WORK/guard.sh state {{node}}
INV
	mkdir -p "$mode"
	cat > "$mode/g.yaml" <<'Y'
name: g
title: A repair whose node loses sshd during the guard
subsystem: provisioning
summary: The first step after the guard finds no sshd.
trigger: {summary: test}
guard: {cordon: true, drain: true}
pre_checks:
  - name: reach
    ssh: echo reached
procedure:
  - name: repair
    ssh: echo repaired >> /tmp/rbx-t0205.MODE
verify:
  - name: v
    ssh: 'true'
rollback:
  - name: r
    ssh: echo rolled-back
references: [https://example.invalid]
Y
	sed -i "s/MODE/$$-$mode/" "$mode/g.yaml"
	rm -f "/tmp/rbx-t0205.$$-$mode"
	"$RBX" run "$WORK/$mode/g.yaml" --node box --inventory "inv-$mode.yaml" > "run-$mode.out" 2>&1 &
	pid=$!
	i=0; until [ -f draining ]; do i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.05; done
	# Kill sshd whole: the listener and every session it forked, as a crash would.
	spid=$(cat "$SSHD_DIR/sshd.pid")
	pkill -9 -P "$spid"; kill -9 "$spid"; rm -f "$SSHD_DIR/sshd.pid"
	wait $pid
	rc=$?
	check "$mode: sshd killed during the drain stops the run with exit 130 ($rc)" "[ $rc -eq 130 ] || { cat run-$mode.out; false; }"
	check "$mode: the repair step did not run" "[ ! -e /tmp/rbx-t0205.$$-$mode ]"
	check "$mode: the node stays cordoned under the run's name, and the run says so" \
		"grep -q '^1 1 rbx:' guard.state && grep -qi 'cordoned' run-$mode.out"
	check "$mode: no rollback was tried on a node it cannot reach" "! grep -q rolled-back run-$mode.out"
	id=$(sed -n 's/.*rbx resume \([^ ]*\)$/\1/p' "run-$mode.out")
	check "$mode: the output names the resume command ($id)" "[ -n '$id' ] || { cat run-$mode.out; false; }"
	sshd_start
	expect_exit "$mode: once sshd is back, rbx resume finishes the repair" 0 resume "$id"
	check "$mode: the repair ran once, and the node is back in service" \
		"[ \$(cat /tmp/rbx-t0205.$$-$mode) = repaired ] && grep -q '^0 0' guard.state"
	rm -f "/tmp/rbx-t0205.$$-$mode"
done
