#!/bin/bash
# bench/ssh.sh - N trivial steps on one node over a loopback sshd, side by side in
# one run: rbx (persistent shell), rbx (ssh-exec), ssh per command, ssh with
# ControlMaster, and ansible-playbook with pipelining. Run as root: it measures as
# a non-root user with a stock profile (created if missing), then as root.
# Usage: bench/ssh.sh [N] (default 200). Needs: scripts/deps.sh bench.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-200}
SLOW=20 # plain ssh costs ~0.2 s a command: time fewer and report per command
rbx=${RBX_BIN:-$top/build/release/rbx} # RBX_BIN: another build to compare
# One command on a fresh clone: what the bench needs (Debian packages), then the build.
"$top/scripts/deps.sh" build bench && make -s -C "$top" rbx >/dev/null || exit 2
[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (it creates the bench user and sshd)" >&2; exit 2; }
id rbxbench >/dev/null 2>&1 || useradd -m -p '*' -s /bin/bash rbxbench

D=$(mktemp -d /tmp/rbx-bench.XXXXXX)
chmod 755 "$D"
PORT=$((22000 + $$ % 10000))
trap '[ -f $D/sshd.pid ] && kill $(cat $D/sshd.pid); rm -rf "$D"' EXIT
mkdir -p /run/sshd "$D/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
for u in root rbxbench; do
	mkdir -p "$D/$u"
	ssh-keygen -q -t ed25519 -N '' -f "$D/$u/key"
	cp "$D/$u/key.pub" "$D/authorized_keys/$u"
	echo "[127.0.0.1]:$PORT $(cut -d' ' -f1-2 "$D/host_key.pub")" > "$D/$u/known_hosts"
	chown -R "$u" "$D/$u"
done
cat > "$D/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys/%u
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 100
CONF
/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
sleep 0.3

steps() { # steps NAME COUNT
	{
		printf 'name: %s\ntitle: bench\nsubsystem: provisioning\nsummary: bench\n' "$1"
		printf 'trigger: {summary: bench}\nguard: {none: bench}\nprocedure:\n'
		for i in $(seq "$2"); do printf '  - {name: s%d, ssh: "true", mutates: false}\n' "$i"; done
		printf 'verify:\n  - {name: v, ssh: "true"}\n'
	} > "$D/$1.yaml"
}
steps one 1
steps many "$N"
{
	printf -- '- hosts: box\n  gather_facts: false\n  tasks:\n'
	for i in $(seq "$SLOW"); do printf '    - shell: "true"\n'; done
} > "$D/play.yml"
chmod -R a+r "$D"/*.yaml "$D/play.yml"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

run_as() { # run_as USER: print one table row per way, per step in ms
	local u=$1 k="$D/$1/key" kh="$D/$1/known_hosts" t
	local as="setpriv --reuid=$u --regid=$u --init-groups env HOME=/home/$u"
	[ "$u" = root ] && as=""
	for mode in ssh ssh-exec; do
		cat > "$D/$u/inv-$mode.yaml" <<INV
defaults: {user: $u, port: $PORT, identity: $k, known_hosts: $kh, scheduler: lab}
nodes:
  - {match: box, host: 127.0.0.1, transport: $mode}
INV
	done
	chown -R "$u" "$D/$u"
	local st="$D/$u/state" shm="/dev/shm/rbx-bench-$$-$u"
	for mode in ssh ssh-exec ssh-tmpfs; do
		local m=${mode%-tmpfs} dir=$st per=""
		[ "$mode" = ssh-tmpfs ] && dir=$shm && mkdir -p "$dir" && chown "$u" "$dir"
		$as env RBX_STATE_DIR="$dir" "$rbx" run "$D/one.yaml" --node box --inventory "$D/$u/inv-$m.yaml" --format json >/dev/null 2>&1
		# Three rounds, the median per step: one round on a shared VM wanders by 20%.
		for _ in 1 2 3; do
			t=$(date +%s%N); $as env RBX_STATE_DIR="$dir" "$rbx" run "$D/one.yaml" --node box --inventory "$D/$u/inv-$m.yaml" --format json >/dev/null 2>&1; one=$(ms $t)
			t=$(date +%s%N); $as env RBX_STATE_DIR="$dir" "$rbx" run "$D/many.yaml" --node box --inventory "$D/$u/inv-$m.yaml" --format json >/dev/null 2>&1; many=$(ms $t)
			per="$per $(awk -v a=$many -v b=$one -v n=$N 'BEGIN {printf "%.2f", (a - b) / (n - 1)}')"
		done
		per=$(echo $per | tr ' ' '\n' | sort -n | sed -n 2p)
		case $mode in
		ssh) way='persistent shell (transport: ssh)' ;;
		ssh-exec) way='channel per step (transport: ssh-exec)' ;;
		*) way='persistent shell, journal in tmpfs (no fdatasync cost)' ;;
		esac
		printf '| %s | rbx, %s | %s ms for %d steps (median of 3) | %s ms |\n' "$u" "$way" "$many" "$N" "$per"
	done
	rm -rf "$shm"
	# The node's own floor: what the remote shell must do per step at least, with no SSH.
	t=$(date +%s%N)
	$as bash -c "for i in \$(seq $N); do /bin/sh -c true </dev/null & wait \$!; done"
	local fl; fl=$(ms $t)
	printf '| %s | no SSH: bash starting /bin/sh -c true in the background and waiting (the floor) | %s ms for %d | %s ms |\n' \
		"$u" "$fl" "$N" "$(awk -v a=$fl -v n=$N 'BEGIN {printf "%.2f", a / n}')"
	local S="ssh -p $PORT -i $k -o UserKnownHostsFile=$kh -o StrictHostKeyChecking=yes -o BatchMode=yes"
	t=$(date +%s%N); for i in $(seq $SLOW); do $as $S $u@127.0.0.1 true; done; local plain; plain=$(ms $t)
	printf '| %s | ssh, a new connection per command | %s ms for %d | %s |\n' "$u" "$plain" "$SLOW" \
		"$(awk -v a=$plain -v n=$SLOW 'BEGIN {printf "%.1f ms", a / n}')"
	$as $S -o ControlMaster=yes -o ControlPath="$D/$u/cm" -o ControlPersist=60 -fN $u@127.0.0.1
	t=$(date +%s%N); for i in $(seq "$N"); do $as $S -o ControlPath="$D/$u/cm" $u@127.0.0.1 true; done; local cm; cm=$(ms $t)
	$as $S -o ControlPath="$D/$u/cm" -O exit $u@127.0.0.1 2>/dev/null || true
	printf '| %s | ssh with ControlMaster | %s ms for %d | %s |\n' "$u" "$cm" "$N" \
		"$(awk -v a=$cm -v n=$N 'BEGIN {printf "%.2f ms", a / n}')"
	if command -v ansible-playbook >/dev/null; then
		printf 'box ansible_host=127.0.0.1 ansible_port=%s ansible_user=%s ansible_ssh_private_key_file=%s ansible_ssh_common_args="-o UserKnownHostsFile=%s"\n' \
			"$PORT" "$u" "$k" "$kh" > "$D/$u/hosts"
		chown "$u" "$D/$u/hosts"
		t=$(date +%s%N)
		$as env ANSIBLE_PIPELINING=1 ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_LOCAL_TEMP="$D/$u/ans" \
			ansible-playbook -i "$D/$u/hosts" "$D/play.yml" >/dev/null
		local an
		an=$(ms $t)
		printf '| %s | ansible-playbook, pipelining | %s ms for %d tasks | %s |\n' "$u" "$an" "$SLOW" \
			"$(awk -v a=$an -v n=$SLOW 'BEGIN {printf "%.0f ms", a / n}')"
	fi
}

echo "| user | way | whole | per step |"
echo "|---|---|---|---|"
run_as rbxbench
run_as root
