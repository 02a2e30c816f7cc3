# t0210-ssh-walkthrough: the loopback walk-through in docs/inventory.md, run as
# written, ends with a run that SUCCEEDED over SSH.
. "$TOP/tests/integration/lib.sh"

sed -n '/^## Trying it on a loopback sshd/,$p' "$TOP/docs/inventory.md" | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d' > walk.sh
cd "$WORK" && check "the walk-through is in the doc" "grep -q 'sshd -f' walk.sh"
cd "$TOP" || exit 1
# The doc's fixed port: skip when something else holds it rather than fight over it.
# (A connect from python3: dash has no /dev/tcp, so the old test never saw a busy port.)
if python3 -c 'import socket, sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", 22220)) != 0)'; then
	ok "port 22220 is busy here: walk-through skipped"
	exit 0
fi
out=$(bash -c ". '$WORK/walk.sh'; rc=\$?; kill \$(cat \$D/sshd.pid); exit \$rc" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'end SUCCEEDED exit=0'; then ok "the walk-through runs node-smoke over SSH to SUCCEEDED"; else not_ok "the walk-through failed (exit $rc)" "$(printf '%s' "$out" | tail -n 15)"; fi
