# t0630-serve-browser: a real browser (headless Chromium with chromedriver and Selenium,
# all from Debian) walks the on-call path on rbx serve: dashboard, alert link, runbook
# page for the node with its plan and command, the node's run, a live run; no console
# errors (tests/tools/browse.py).
. "$TOP/tests/integration/lib.sh"

if ! command -v chromedriver >/dev/null || ! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
	not_ok "chromium, chromium-driver and python3-selenium are needed (scripts/deps.sh check installs them)"
	exit 0
fi
mkdir -p books
cp "$TOP/runbooks/gpu-fault.yaml" books/
cat > books/slow.yaml <<'Y'
name: slow
title: A slow repair
subsystem: provisioning
summary: Holds the node for a while.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 1m}
procedure:
  - {name: wait a while, ssh: sleep 20, timeout: 1m}
verify:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
export RBX_RUNBOOKS="$WORK/books"
"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
"$RBX" run gpu-fault --node n42 --lab >/dev/null 2>&1
printf 'a-receiver-token-0123456789\n' > recv.token
serve_start --lab --receiver-token-file recv.token
"$RBX" run slow --node n41 --lab > slow.out 2>&1 &
# shellcheck disable=SC2034 # lib.sh's serve_start kills it at exit
SERVE_ALSO=$!
wait_for 'wait a while' slow.out
curl -s -o /dev/null -XPOST -H 'Authorization: Bearer a-receiver-token-0123456789' \
	--data-binary @"$TOP/tests/fixtures/alertmanager/firing-xid.json" "$URL/alertmanager"
live=$(journal_ids n41)
/usr/bin/python3 "$TOP/tests/tools/browse.py" "$URL" "$live" > browse.out 2>&1
rc=$?
while read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	esac
done < browse.out
check "the browser session ran to its end ($rc)" "[ $rc -eq 0 ] || { cat browse.out; exit 1; }"
serve_stop
