# t0050-lab-safety: in the lab, nothing can reach a real system: system
# commands are simulated or refused, real programs by path are refused.
. "$TOP/tests/integration/lib.sh"

mk() {
	name=$1
	cmd=$2
	cat > "$name.yaml" <<Y
name: $name
title: Lab safety probe
subsystem: provisioning
summary: Tries something the lab must not allow.
trigger: {summary: test}
guard: {cordon: true, drain: true}
procedure:
  - name: Try it
    ssh: '$cmd'
verify:
  - name: v
    ssh: 'true'
rollback:
  - name: r
    ssh: 'true'
references: [https://example.invalid/test]
Y
}

for c in reboot shutdown poweroff apt dpkg rm sudo ssh python3 bash "kubectl exec -it x sh" \
	"ipmitool raw 0x06 0x01" "curl -s https://example.invalid/" "systemctl isolate rescue.target"; do
	mk "try-$(echo "$c" | cut -d' ' -f1)" "$c --help"
	"$RBX" lab reset n1 >/dev/null
	expect_exit "'$c' in the lab fails (exit 1)" 1 run "$WORK/try-$(echo "$c" | cut -d' ' -f1).yaml" --node n1 --lab
	check "'$c' is reported as not simulated (exit 127)" "contains \"\$OUT\" 'exit=127' && contains \"\$OUT\" 'not simulated in the lab'"
done
mk try-abs "/sbin/reboot"
"$RBX" lab reset n1 >/dev/null
expect_exit "a real program by absolute path is refused" 1 run "$WORK/try-abs.yaml" --node n1 --lab
check "the refusal says why" "contains \"\$OUT\" 'names a real program'"
mk try-env "env"
"$RBX" lab reset n1 >/dev/null
expect_exit "the environment of a lab step is not the operator's" 1 run "$WORK/try-env.yaml" --node n1 --lab
mk try-path 'echo $PATH; echo $HOME'
"$RBX" lab reset n1 >/dev/null
expect_exit "a lab step sees only the lab's PATH" 0 run "$WORK/try-path.yaml" --node n1 --lab --format json
printf '%s' "$OUT" | python3 -c '
import json,sys
e=[json.loads(l) for l in sys.stdin if "\"step_end\"" in l and "Try it" in l][0]
print(e["stdout_tail"])' > path.txt
check "PATH is the lab's bin dir only" "head -n 1 path.txt | grep -qx '$RBX_STATE_DIR/lab/bin/[0-9a-f]\{16\}'"
check "HOME is inside the state dir" "sed -n 2p path.txt | grep -qx '$RBX_STATE_DIR/lab/nodes/n1/scratch'"
check "nothing of the run is left in the lab's runs dir" "[ -z \"\$(ls \"\$RBX_STATE_DIR/lab/runs\" 2>/dev/null)\" ]"
check "the bin dir is made once, not per run" "[ \$(ls \"\$RBX_STATE_DIR/lab/bin\" | wc -l) -eq 1 ]"
# Runs that start together on a fresh state dir race to make it: each succeeds, one dir
# remains, and no half-made one is left behind.
mkdir fresh
for i in 1 2 3 4 5 6 7 8; do
	RBX_STATE_DIR="$WORK/fresh" "$RBX" run "$WORK/try-path.yaml" --node "r$i" --lab > "race$i.out" 2>&1 &
done
wait
check "eight runs racing to make the bin dir all succeed" "[ \$(grep -l 'end SUCCEEDED' race*.out | wc -l) -eq 8 ] || cat race*.out"
check "...and leave one bin dir, nothing half-made" "[ \"\$(ls -A '$WORK/fresh/lab/bin')\" = \"\$(ls '$WORK/fresh/lab/bin' | grep -x '[0-9a-f]\{16\}')\" ] && [ \$(ls -A '$WORK/fresh/lab/bin' | wc -l) -eq 1 ]"
"$RBX" lab reset n1 >/dev/null
mk try-apt "apt-get install -y nvidia-driver-560=560.35.03-1 && systemctl stop nvidia-dcgm nvidia-persistenced nvidia-fabricmanager && modprobe -r nvidia"
expect_exit "simulated system commands run in the lab" 0 run "$WORK/try-apt.yaml" --node n1 --lab --yes
check "and change the lab node's state" "lab_state n1 | grep -q '\"nvidia-driver-560\": \"560.35.03-1\"'"
check "not the machine's packages" "! dpkg-query -W nvidia-driver-560 >/dev/null 2>&1"
check "simulated tools refuse to run outside a lab run" "! PATH=/nonexistent \"$TOP/build/release/rbx\" 2>/dev/null; ln -sf \"$RBX\" ./nvidia-smi; ./nvidia-smi -L 2>&1 | grep -q 'only inside an rbx lab run'"

# The confinement is the kernel's (Landlock), not a reading of the command: whatever
# shell trick builds a path, a step executes only the lab's PATH, writes only below
# its node, and reads no program directory of the host (where the kernel has Landlock
# ABI 4, TCP is denied too; no lab tool can open a socket to show it).
cat > escape.yaml <<'Y'
name: escape
title: Escape attempts
subsystem: provisioning
summary: Tries to leave the lab.
trigger: {summary: test}
guard: {none: read-only}
procedure:
  - {name: built path, mutates: false, ssh: 'x=/usr/bin/i; x=${x}d; $x > out.a 2>&1; echo "rc=$?"'}
  - {name: relative path, mutates: false, ssh: 'cd /usr/bin && ./whoami > "$HOME/out.b" 2>&1; echo "rc=$?"'}
  - {name: the loader, mutates: false, ssh: 'x=/lib64/ld-linux-x86-64.so.2; p=/usr/bin; $x $p/id > out.c 2>&1; echo "rc=$?"'}
  - {name: write outside, mutates: false, ssh: 'echo x > /tmp/rbx-lab-escape-$RBX_LAB_NODE; echo "rc=$?"'}
  - {name: own files still work, mutates: false, ssh: 'echo ok > mine.txt && cat mine.txt'}
verify:
  - {name: v, ssh: 'true'}
references: [https://example.invalid]
Y
expect_exit "a run of escape attempts completes" 0 run "$WORK/escape.yaml" --node n9 --lab --format json
printf '%s\n' "$OUT" > esc.jsonl
tail_of() { python3 -c 'import json,sys; print([json.loads(l) for l in open("esc.jsonl") if "\"step_end\"" in l and json.loads(l)["name"]==sys.argv[1]][0]["stdout_tail"].strip())' "$1"; }
S="$RBX_STATE_DIR/lab/nodes/n9/scratch"
check "a path built in the shell cannot run the real id ($(tail_of 'built path'))" "[ \"\$(tail_of 'built path')\" = rc=126 ] && ! grep -q uid= '$S/out.a'"
check "nor a relative ./whoami ($(tail_of 'relative path'))" "[ \"\$(tail_of 'relative path')\" = rc=126 ] && ! grep -qx root '$S/out.b'"
check "nor the dynamic loader run by hand on a host program" "! grep -q uid= '$S/out.c'"
check "nothing is written outside the node ($(tail_of 'write outside'))" "[ ! -e /tmp/rbx-lab-escape-n9 ]"
check "the step's own files work as before" "[ \"\$(tail_of 'own files still work')\" = ok ]"

# The shell's own kill is no program the lab can stand in for: it would signal a
# process of the host by its pid. Where the kernel has Landlock ABI 6 (Linux 6.12),
# the step's signals are scoped to what it started.
abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))')
if [ "$abi" -ge 6 ]; then
	sleep 300 &
	host_pid=$!
	"$RBX" lab exec n9 "kill -9 $host_pid; echo rc=\$?" > kill.out 2>&1
	sleep 0.2
	check "a lab step's builtin kill cannot reach a host process ($(tr '\n' ' ' < kill.out))" "kill -0 $host_pid 2>/dev/null && grep -q rc=1 kill.out"
	kill "$host_pid" 2>/dev/null
	check "while it still signals what it started itself" "'$RBX' lab exec n9 'sleep 100 & p=\$!; kill \$p; echo rc=\$?' | grep -q rc=0"
else
	echo "# note: Landlock ABI $abi < 6 here: a lab step's builtin kill is not confined (docs/architecture.md)"
fi
