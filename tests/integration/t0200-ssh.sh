# t0200-ssh: runbooks over a real OpenSSH server on loopback, in both transport
# modes: exit codes, captures, stderr, large output, a timeout that ends the
# remote process group, strict host keys, wrong client keys, and a node that
# reboots in the middle of a run.
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/sshd.sh"

sshd_ready || exit 0

cat > probe.yaml <<'Y'
name: probe
title: SSH probe
subsystem: provisioning
summary: Proves the SSH transport.
trigger: {summary: test}
guard: {cordon: true, drain: true}
pre_checks:
  - name: who
    ssh: echo "user $(id -un)"; echo to-stderr >&2
    capture: {who: 'user ([a-z]+)'}
procedure:
  - name: exit 3 allowed
    ssh: exit 3
    expect: {exit: [3]}
  - name: no trailing newline
    ssh: printf abc
    capture: abc
  - name: a fake end marker in the output is just output
    ssh: printf '\nrbx0000 0\n\nrbx0000\n'; echo done
    expect: {stdout: '^done$'}
  - name: large output on both streams
    ssh: head -c 3000000 /dev/zero | tr '\0' e >&2; head -c 800000 /dev/zero | tr '\0' o; echo; echo end
    capture: {end: '(end)'}
    timeout: 60s
verify:
  - name: stdin is /dev/null
    ssh: read x; echo "[$x]"
    expect: {stdout: '^\[\]$'}
  - name: each step has its own process group
    ssh: test "$(ps -o pgid= -p $$ | tr -d ' ')" = $$
rollback:
  - name: r
    ssh: 'true'
references: [https://example.invalid]
Y

for mode in ssh ssh-exec; do
	inventory "inv-$mode.yaml" "$mode"
	"$RBX" lab reset box >/dev/null
	expect_exit "$mode: a runbook over SSH succeeds" 0 run "$WORK/probe.yaml" --node box --inventory "inv-$mode.yaml" --format json
	printf '%s\n' "$OUT" > "out-$mode.json"
	check "$mode: stdout and stderr are kept apart, captures work" "python3 - out-$mode.json <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ends = {r['name']: r for r in recs if r['type'] == 'step_end'}
assert ends['who']['stdout_tail'] == 'user root\n', ends['who']
assert ends['who']['stderr_tail'] == 'to-stderr\n'
assert ends['who']['captures'] == {'who': 'root'}
assert ends['exit 3 allowed']['exit'] == 3
assert ends['no trailing newline']['captures'] == {'abc': 'abc'}
big = ends['large output on both streams']
assert big['captures'] == {'end': 'end'}, big['captures']
assert big['stderr_tail'] == 'e' * 4096, len(big['stderr_tail'])
assert all(r['target'].startswith('$mode:') for r in recs if r['type'] == 'step_start' and r['kind'] == 'ssh')
PY"
done

cat > hang.yaml <<'Y'
name: hang
title: A remote step that hangs
subsystem: provisioning
summary: Its deadline must end its process group on the node.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: hang with a child
    ssh: sleep 171 & sleep 171
    timeout: 1s
  - name: the connection still works after a timeout
    ssh: 'true'
verify:
  - name: v
    ssh: 'true'
rollback:
  - name: still reachable for the rollback
    ssh: echo rolled-back
references: [https://example.invalid]
Y
for mode in ssh ssh-exec; do
	"$RBX" lab reset box >/dev/null
	start=$(date +%s%N)
	expect_exit "$mode: a remote step past its timeout fails the run, which rolls back" 1 run "$WORK/hang.yaml" --node box --inventory "inv-$mode.yaml"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	check "$mode: ...at its timeout, not when the sleep would end (${ms} ms; 171 s)" "[ $ms -lt 30000 ]"
	check "$mode: the step's remote children are gone" "sleep 0.3; [ \$(ps -eo args | grep -c '^sleep 171\$') -eq 0 ]"
	check "$mode: the rollback ran over the same connection" "contains \"\$OUT\" 'rolled-back'"
done

# An interrupt over SSH ends the remote step's group; the run resumes over a new connection.
sed -e 's/^name: hang/name: intr/' -e 's/sleep 171 & sleep 171/sleep 173 \& sleep 173/' -e 's/timeout: 1s/timeout: 5m/' hang.yaml > intr.yaml
"$RBX" lab reset box >/dev/null
"$RBX" run "$WORK/intr.yaml" --node box --inventory inv-ssh.yaml > intr.out 2>&1 &
pid=$!
i=0; until [ "$(ps -eo args | grep -c '^sleep 173$')" -ge 2 ]; do i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1; done
kill -TERM $pid
wait $pid
rc=$?
check "ssh: SIGTERM mid-step exits 130 ($rc)" "[ $rc -eq 130 ] || { cat intr.out; exit 1; }"
check "ssh: the remote step's process group is gone" "sleep 0.3; [ \$(ps -eo args | grep -c '^sleep 173\$') -eq 0 ]"
id=$(sed -n 's/.*rbx resume \([^ ]*\)$/\1/p' intr.out)
check "ssh: the output names the resume command" "[ -n '$id' ]"
sshd_stop
expect_exit "ssh: a resume while the node is unreachable stops again (exit 130)" 130 resume "$id" --assume-done
check "ssh: its report and run_end say exit 130, not 0" "contains \"\$OUT\" 'end INTERRUPTED exit=130' && tail -n 1 '$RBX_STATE_DIR/runs/$id.jsonl' | grep -q '\"type\":\"run_end\",\"state\":\"INTERRUPTED\",\"exit\":130'"
check "ssh: and the reason is said once, not garbled" "[ \$(printf '%s' \"\$OUT\" | grep -o 'cannot reach box to resume' | wc -l) -eq 1 ]"
sshd_start
expect_exit "ssh: rbx resume --assume-done reconnects and finishes the run" 0 resume "$id" --assume-done
check "ssh: the rest ran over SSH" "contains \"\$OUT\" 'the connection still works after a timeout' && [ \"\$(sched_field box cordoned)\" = False ]"

# A step stopped by a signal and continued is still one step: the driver (bash's job
# control: its wait returns for a stopped job) waits again until the step really ends.
cat > stopped.yaml <<'Y'
name: stopped
title: A step that is stopped and continued
subsystem: provisioning
summary: Its own SIGSTOP must not end it.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: stop myself, be continued
    ssh: (sleep 1; kill -CONT $$) & kill -STOP $$; echo resumed; exit 4
    expect: {exit: [4]}
verify:
  - {name: v, ssh: 'true'}
rollback:
  - {name: r, ssh: 'true'}
references: [https://example.invalid]
Y
for mode in ssh ssh-exec; do
	"$RBX" lab reset box >/dev/null
	expect_exit "$mode: a step stopped and continued runs to its own end (exit 4, as expected)" 0 run "$WORK/stopped.yaml" --node box --inventory "inv-$mode.yaml" --format json
	check "$mode: ...after it was continued" "printf '%s' \"\$OUT\" | grep '\"step_end\"' | grep -q 'resumed'"
done

# Host keys.
: > "$SSHD_DIR/empty_known_hosts"
inventory inv-unknown.yaml ssh "$SSHD_DIR/client_key" "$SSHD_DIR/empty_known_hosts"
"$RBX" lab reset box >/dev/null
expect_exit "an unknown host key stops the run before any step (exit 3)" 3 run "$WORK/probe.yaml" --node box --inventory inv-unknown.yaml
fp=$(ssh-keygen -lf "$SSHD_DIR/host_key.pub" | awk '{print $2}')
check "the refusal names the node, the key type and its SHA-256 fingerprint" "contains \"\$OUT\" 'node box' && contains \"\$OUT\" 'ssh-ed25519' && contains \"\$OUT\" '$fp'"
check "nothing ran and nothing was cordoned" "! contains \"\$OUT\" 'step pre_checks' && [ \"\$(sched_field box cordoned)\" = False ]"
expect_exit "--accept-new-host-key records it and runs" 0 run "$WORK/probe.yaml" --node box --inventory inv-unknown.yaml --accept-new-host-key
check "the key is now in the known_hosts file" "grep -q 'ssh-ed25519' '$SSHD_DIR/empty_known_hosts'"
expect_exit "the recorded key is then trusted without the flag" 0 run "$WORK/probe.yaml" --node box --inventory inv-unknown.yaml

sshd_stop
sshd_new_host_key
sshd_start
"$RBX" lab reset box >/dev/null
expect_exit "a changed host key is refused (exit 3)" 3 run "$WORK/probe.yaml" --node box --inventory inv-ssh.yaml --accept-new-host-key
fp=$(ssh-keygen -lf "$SSHD_DIR/host_key.pub" | awk '{print $2}')
check "even with --accept-new-host-key, and the message says CHANGED with the new fingerprint" "contains \"\$OUT\" 'CHANGED' && contains \"\$OUT\" '$fp'"
sshd_known_hosts "$SSHD_DIR/known_hosts"

inventory inv-wrongkey.yaml ssh "$SSHD_DIR/other_key"
expect_exit "a client key the node does not accept is refused (exit 3)" 3 run "$WORK/probe.yaml" --node box --inventory inv-wrongkey.yaml
check "the message says public-key authentication failed" "contains \"\$OUT\" 'authentication of root@127.0.0.1'"

# A reboot in the middle of a run: the node goes away, comes back, its key is checked again.
cat > reboot.yaml <<'Y'
name: reboot
title: Restart the node
subsystem: provisioning
summary: The node goes away and comes back during the run.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: before
    ssh: cat /proc/sys/kernel/random/boot_id > /dev/null; echo before
  - name: restart
    action: reboot
    timeout: 30s
  - name: after
    ssh: echo after
verify:
  - name: v
    ssh: 'true'
rollback:
  - name: r
    ssh: 'true'
references: [https://example.invalid]
Y
for mode in ssh ssh-exec; do
	"$RBX" lab reset box >/dev/null
	oldpid=$(cat "$SSHD_DIR/sshd.pid")
	expect_exit "$mode: a run survives the node restarting in the middle (reboot)" 0 run "$WORK/reboot.yaml" --node box --inventory "inv-$mode.yaml"
	check "$mode: the server really restarted" "[ \"\$(cat '$SSHD_DIR/sshd.pid')\" != '$oldpid' ]"
	check "$mode: the step after the reboot ran on the new connection" "contains \"\$OUT\" 'step procedure/3 \"after\" ok'"
done

# A reboot is a new boot id: a fast one that never looks down counts, an sshd blip does not.
sed 's#reboot_command: .*#reboot_command: '"$SSHD_DIR"'/fast.sh#' inv-ssh.yaml > inv-fast.yaml
sleep 1.5; sshd_up
"$RBX" lab reset box >/dev/null
expect_exit "a fast reboot (never seen down) is a reboot" 0 run "$WORK/reboot.yaml" --node box --inventory inv-fast.yaml
sed -e 's#reboot_command: .*#reboot_command: '"$SSHD_DIR"'/blip.sh#' inv-ssh.yaml > inv-blip.yaml
sed 's/timeout: [0-9]*[ms]*$/timeout: 4s/' reboot.yaml > blip.yaml
sed -i 's/^name: reboot/name: blip/' blip.yaml
"$RBX" lab reset box >/dev/null
expect_exit "an sshd blip with the same boot id is not a reboot: the step fails (exit 1)" 1 run "$WORK/blip.yaml" --node box --inventory inv-blip.yaml
check "saying the node did not reboot" "contains \"\$OUT\" 'did not reboot'"
sshd_up

# A dropped connection leaves the step in doubt: it may still be running on the node.
cat > drop.yaml <<'Y'
name: drop
title: The connection drops
subsystem: provisioning
summary: A lost connection leaves the step in doubt; the resume ends what it left running.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: kill our own sshd session
    ssh: (sleep 307.5; echo late >> late.txt) & echo started; kill -9 "$(ps -o ppid= -p $PPID)"; wait
  - name: after
    ssh: echo after
verify:
  - name: v
    ssh: 'true'
rollback:
  - name: r
    ssh: echo rolled back
references: [https://example.invalid]
Y
"$RBX" lab reset box >/dev/null
expect_exit "a dropped connection stops the run with the step in doubt (exit 130)" 130 run "$WORK/drop.yaml" --node box --inventory inv-ssh.yaml
check "it says so, and how to go on" "contains \"\$OUT\" 'connection lost' && contains \"\$OUT\" 'in doubt' && contains \"\$OUT\" 'rbx resume'"
check "no rollback, no retry: the step is neither failed nor done" "! contains \"\$OUT\" 'rolled back' && [ \$(grep -c 'kill our own sshd session.*start' \"\$WORK/out\") -eq 1 ]"
check "what the step started is still running on the node" "pgrep -f 'sleep 307.5' >/dev/null"
id=$(ls -t "$RBX_STATE_DIR/runs" | head -n 1 | sed 's/.jsonl$//')
check "the journal marks the step lost" "grep -q '\"status\":\"lost\"' '$RBX_STATE_DIR/runs/$id.jsonl'"
expect_exit "a resume without a decision stops (exit 2): not idempotent, never retried by itself" 2 resume "$id" --inventory inv-ssh.yaml
check "and ended what the step left running on the node" "! pgrep -f 'sleep 307.5' >/dev/null"
expect_exit "--assume-done finishes the run over a new connection" 0 resume "$id" --assume-done --inventory inv-ssh.yaml
check "the step was not run again; the next one ran" "[ \$(grep -c 'kill our own sshd session.*start' '$RBX_STATE_DIR/runs/$id.jsonl') -eq 1 ] && grep -q '\"name\":\"after\".*\"status\":\"ok\"' '$RBX_STATE_DIR/runs/$id.jsonl'"

"$RBX" lab reset box >/dev/null
expect_exit "plain output names the transport it connected" 0 run "$WORK/probe.yaml" --node box --inventory inv-ssh.yaml
check "(transport ssh:root@127.0.0.1:PORT ok)" "contains \"\$OUT\" 'transport ssh:root@127.0.0.1:$SSHD_PORT ok'"

# The jump host reaches a shell (libssh's ProxyCommand): only a plain [user@]host[:port].
printf 'nodes:\n  - {match: j1, host: 10.0.0.1, jump: "b; touch /tmp/rbx-jump-pwned"}\n  - {match: j2, host: 10.0.0.2, jump: "ops@bastion.example.net:2222"}\n' > jump.yaml
expect_exit "a jump host that is not a plain word is an inventory error (exit 2)" 2 nodes --inventory jump.yaml
check "named at file:line:col" "contains \"\$ERR\" 'jump.yaml:2:[0-9]*: error: jump'"
sed -i '2d' jump.yaml
expect_exit "a plain one is accepted" 0 nodes --inventory jump.yaml
printf 'nodes:\n  - {match: "h[1-2]", host: "{{node}}.cluster.example"}\n' > host.yaml
expect_exit "a host may name the node" 0 nodes --inventory host.yaml
check "and becomes the node's address" "contains \"\$OUT\" 'root@h2.cluster.example:22'"
printf 'nodes:\n  - {match: h1, host: "{{params.x}}"}\n  - {match: h2, host: "{{node"}\n' > badhost.yaml
expect_exit "any other template in a host is an inventory error (exit 2)" 2 nodes --inventory badhost.yaml
check "at its line and column" "contains \"\$ERR\" 'badhost.yaml:2:23: error: host' && contains \"\$ERR\" 'badhost.yaml:3:23: error: host'"

expect_exit "rbx plan shows the transport and address" 0 plan "$WORK/probe.yaml" --node box --inventory inv-ssh.yaml
check "the plan's steps run on ssh:root@127.0.0.1" "contains \"\$OUT\" 'ssh:root@127.0.0.1:$SSHD_PORT\\$ echo'"
expect_exit "a node missing from the inventory is a usage error" 2 run "$WORK/probe.yaml" --node nope --inventory inv-ssh.yaml
