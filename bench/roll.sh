#!/bin/bash
# bench/roll.sh - a read-only runbook of five steps rolled over N lab nodes, BATCH at a
# time, against the same five commands through Ansible (forks = BATCH, local connection),
# pdsh and ClusterShell (exec workers, fan-out = BATCH), all in one run. Prints a table:
# wall time per node and peak memory (the whole process tree, and its largest process).
# Usage: bench/roll.sh [N...]  (default: 50 200). BATCHES="1 8 32" by default.
# Needs scripts/deps.sh bench (ansible-core, pdsh, clustershell).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rbx=${RBX_BIN:-$top/build/release/rbx}
# One command on a fresh clone: what the bench needs (Debian packages), then the build.
"$top/scripts/deps.sh" build bench && make -s -C "$top" rbx >/dev/null || exit 2
[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
sizes=${*:-50 200}
batches=${BATCHES:-1 8 32}
peak="python3 $top/bench/peak.py"
# State on the project's disk, not tmpfs: fdatasync costs what it costs.
work=$(mktemp -d "$top/build/bench-roll.XXXXXX")
trap 'rm -rf "$work"' EXIT
export RBX_STATE_DIR="$work/state" NO_COLOR=1 RBX_RUNBOOKS="$work"

# The five commands: read-only, and each runs both on a lab node (text tools over /proc
# and /etc) and on this host, so every tool runs the same programs. No "%": clush and
# pdsh read it as a pattern of their own.
cmds=("cat /proc/loadavg" "grep MemTotal /proc/meminfo" "date -u -Iseconds" "ls /proc/self/fd"
	"sha256sum /etc/os-release")
{
	printf 'name: look\ntitle: Five read-only looks at a node\nsubsystem: provisioning\n'
	printf 'summary: Reads load, memory, the clock, its descriptors and the OS release.\n'
	printf 'trigger: {summary: bench}\nguard: {none: it only reads}\nprocedure:\n'
	for i in 0 1 2 3; do printf '  - {name: look %d, ssh: %s, mutates: false}\n' "$i" "'${cmds[$i]}'"; done
	printf 'verify:\n  - {name: look 4, ssh: %s}\nreferences: [bench]\n' "'${cmds[4]}'"
} > "$work/look.yaml"
"$rbx" lint "$work/look.yaml" >/dev/null

{
	printf -- '- hosts: nodes\n  gather_facts: false\n  tasks:\n'
	for c in "${cmds[@]}"; do printf '    - command: %s\n' "$c"; done
} > "$work/play.yml"

row() { # row N BATCH TOOL RESULT("secs total single exit")
	read -r secs total single rc <<<"$4"
	[ "$rc" = 0 ] || { echo "bench/roll.sh: '$3' failed (exit $rc) over $1 nodes" >&2; exit 1; }
	printf '| %s | %s | %s | %.1f s | %.1f ms | %.1f MB | %.1f MB |\n' "$1" "$2" "$3" "$secs" \
		"$(awk -v s="$secs" -v n="$1" 'BEGIN {print s * 1000 / n}')" \
		"$(awk -v k="$total" 'BEGIN {print k / 1024}')" "$(awk -v k="$single" 'BEGIN {print k / 1024}')"
}

echo "| nodes | batch | way | wall | per node | peak memory (all processes) | largest process |"
echo "|---|---|---|---|---|---|---|"
for n in $sizes; do
	hosts="b[1-$n]"
	{ echo "[nodes]"; for i in $(seq 1 "$n"); do echo "b$i ansible_connection=local ansible_python_interpreter=/usr/bin/python3"; done; } > "$work/hosts"
	for b in $batches; do
		rm -rf "$RBX_STATE_DIR"
		"$rbx" roll look --nodes "$hosts" --batch 1 --lab --yes >/dev/null 2>&1 || true # lab nodes made, caches warm
		rm -rf "$RBX_STATE_DIR/runs" "$RBX_STATE_DIR/rolls"
		row "$n" "$b" "rbx roll (lab nodes)" "$($peak "$rbx" roll look --nodes "$hosts" --batch "$b" --lab --yes)"
		if command -v ansible-playbook >/dev/null; then
			row "$n" "$b" "ansible-playbook, forks=$b" "$($peak env ANSIBLE_FORKS="$b" ANSIBLE_LOCAL_TEMP="$work/ans" \
				ANSIBLE_HOME="$work/ans" ansible-playbook -i "$work/hosts" "$work/play.yml")"
		fi
		if command -v pdsh >/dev/null; then
			row "$n" "$b" "pdsh -R exec, fanout $b, a call per command" "$($peak bash -c "
				for c in \"\$@\"; do pdsh -R exec -f $b -w '$hosts' sh -c \"\$c\" || exit 1; done" _ "${cmds[@]}")"
		fi
		if command -v clush >/dev/null; then
			row "$n" "$b" "clush -R exec, fanout $b, a call per command" "$($peak bash -c "
				for c in \"\$@\"; do clush -R exec -f $b -w '$hosts' \"\$c\" || exit 1; done" _ "${cmds[@]}")"
		fi
	done
done
