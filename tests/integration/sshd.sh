# tests/integration/sshd.sh - a real OpenSSH server on loopback for the SSH tests:
# its own host key, config and authorized_keys in a temp dir, stopped by its PID.
# Source after lib.sh. Sets SSHD_DIR, SSHD_PORT; sshd_ready (start and trust), sshd_start,
# sshd_stop, sshd_new_host_key.

SSHD_DIR="$WORK/sshd"
mkdir -p "$SSHD_DIR" /run/sshd
# A port from the pid, away from the well-known ones, so parallel runs do not collide.
SSHD_PORT=${SSHD_PORT:-$(test_port sshd)}
ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/client_key"
ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/other_key"
cp "$SSHD_DIR/client_key.pub" "$SSHD_DIR/authorized_keys"
cat > "$SSHD_DIR/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 100
CONF

sshd_start() {
	/usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log"
	i=0
	while ! ssh -p "$SSHD_PORT" -i "$SSHD_DIR/client_key" -o UserKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=no -o BatchMode=yes -o LogLevel=ERROR root@127.0.0.1 true 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 300 ] && return 1; sleep 0.1
	done
}

sshd_ready() { # start sshd and trust its key ($SSHD_DIR/known_hosts), or say why not
	if ! sshd_start; then
		not_ok "the test sshd did not start" "$(cat "$SSHD_DIR/sshd.log")"
		return 1
	fi
	sshd_known_hosts "$SSHD_DIR/known_hosts"
}

sshd_up() { # wait until the server answers (after a simulated reboot)
	i=0
	while ! ssh -p "$SSHD_PORT" -i "$SSHD_DIR/client_key" -o UserKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=no -o BatchMode=yes -o LogLevel=ERROR root@127.0.0.1 true 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1
	done
}

sshd_stop() {
	[ -f "$SSHD_DIR/sshd.pid" ] && kill "$(cat "$SSHD_DIR/sshd.pid")" 2>/dev/null
	rm -f "$SSHD_DIR/sshd.pid"
	sleep 0.2
}

sshd_known_hosts() { # sshd_known_hosts FILE: trust the current host key
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$SSHD_DIR/host_key.pub")" > "$1"
}

sshd_new_host_key() {
	rm -f "$SSHD_DIR/host_key" "$SSHD_DIR/host_key.pub"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_key"
}

# inventory FILE TRANSPORT [IDENTITY] [KNOWN_HOSTS]: one node, "box", on the loopback sshd.
inventory() {
	cat > "$1" <<INV
defaults:
  user: root
  port: $SSHD_PORT
  scheduler: lab
  identity: ${3:-$SSHD_DIR/client_key}
  known_hosts: ${4:-$SSHD_DIR/known_hosts}
  connect_timeout: 5s
nodes:
  - match: 'box'
    host: 127.0.0.1
    transport: $2
    reboot_command: $SSHD_DIR/restart.sh
    boot_id_command: cat $SSHD_DIR/boot_id
INV
	cat > "$SSHD_DIR/restart.sh" <<SH
#!/bin/sh
# A node that reboots: sshd goes away for a moment and comes back, with a new boot id.
kill \$(cat $SSHD_DIR/sshd.pid)
sleep 1
cat /proc/sys/kernel/random/uuid > $SSHD_DIR/boot_id
/usr/sbin/sshd -f $SSHD_DIR/sshd_config -E $SSHD_DIR/sshd.log
SH
	chmod +x "$SSHD_DIR/restart.sh"
	[ -s "$SSHD_DIR/boot_id" ] || cat /proc/sys/kernel/random/uuid > "$SSHD_DIR/boot_id"
	# A fast reboot (never seen down) and an sshd blip (no reboot at all).
	printf '#!/bin/sh\ncat /proc/sys/kernel/random/uuid > %s/boot_id\n' "$SSHD_DIR" > "$SSHD_DIR/fast.sh"
	printf '#!/bin/sh\nkill $(cat %s/sshd.pid); sleep 1; /usr/sbin/sshd -f %s/sshd_config -E %s/sshd.log\n' \
		"$SSHD_DIR" "$SSHD_DIR" "$SSHD_DIR" > "$SSHD_DIR/blip.sh"
	chmod +x "$SSHD_DIR/fast.sh" "$SSHD_DIR/blip.sh"
}

trap 'sshd_stop; finish' EXIT
