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

for c in reboot shutdown apt-get modprobe rmmod kubectl scontrol ipmitool curl rm; do
	mk "try-$c" "$c --help"
	"$RBX" lab reset n1 >/dev/null
	expect_exit "'$c' in the lab fails (exit 1)" 1 run "$WORK/try-$c.yaml" --node n1 --lab
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
check "PATH is the lab's bin dir only" "head -n 1 path.txt | grep -qx '$RBX_STATE_DIR/lab/runs/[^:]*/bin'"
check "HOME is inside the state dir" "sed -n 2p path.txt | grep -qx '$RBX_STATE_DIR/lab/nodes/n1/scratch'"
check "the per-run bin dir is removed after the run" "[ -z \"\$(ls \"\$RBX_STATE_DIR/lab/runs\" 2>/dev/null)\" ]"
check "simulated tools refuse to run outside a lab run" "! PATH=/nonexistent \"$TOP/build/release/rbx\" 2>/dev/null; ln -sf \"$RBX\" ./nvidia-smi; ./nvidia-smi -L 2>&1 | grep -q 'only inside an rbx lab run'"
