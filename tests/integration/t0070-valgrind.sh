# t0070-valgrind: no leak and no memory error on lab runs, lint and plan
# (skipped under SANITIZE=1, where ASan and LeakSanitizer do this job).
. "$TOP/tests/integration/lib.sh"

if [ "${SANITIZE:-}" = 1 ]; then
	ok "valgrind: skipped under SANITIZE=1 (ASan/LSan check the same)"
	exit 0
fi
vg() { valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	--child-silent-after-fork=yes "$RBX" "$@"; }
# Valgrind cannot emulate Landlock's system calls, so under it every lab step's child
# refuses to run unconfined (exit 126) and a lab run stops early: these checks prove
# rbx's own memory on those paths (exit 99 is valgrind's: an error or a leak). The
# full lab paths run under ASan and LeakSanitizer (make check SANITIZE=1).
no_vg_error() { [ "$1" -ne 99 ]; }

"$RBX" lab inject n42 xid=48 gpu=3 dcgm=fail >/dev/null
check "valgrind: a lab run" "vg run gpu-fault --node n42 --lab >out.txt 2>vg.txt; no_vg_error \$? || { cat vg.txt; exit 1; }"
"$RBX" lab reset n42 >/dev/null
"$RBX" lab inject n42 xid=79 gpu=3 persistent >/dev/null
check "valgrind: a lab run, --yes, JSON" "vg run gpu-fault --node n42 --lab --yes --format json >out.txt 2>vg.txt; no_vg_error \$? || { cat vg.txt; exit 1; }"
check "valgrind: lint of the catalogue and of a broken runbook" "vg lint '$TOP/runbooks' 2>vg.txt || { cat vg.txt; exit 1; }; printf 'name: x\nfoo: [\n' > b.yaml; vg lint b.yaml 2>vg.txt; [ \$? -eq 2 ] || { cat vg.txt; exit 1; }"
check "valgrind: plan, graph, runs, log" "vg plan gpu-fault --node n42 --format json >/dev/null 2>vg.txt && vg graph gpu-fault >/dev/null 2>>vg.txt && vg runs >/dev/null 2>>vg.txt && vg log \$(ls \$RBX_STATE_DIR/runs | head -n1 | sed 's/.jsonl//') >/dev/null 2>>vg.txt || { cat vg.txt; exit 1; }"
"$RBX" lab reset n43 >/dev/null
"$RBX" lab inject n43 xid=48 gpu=3 >/dev/null
RBX_TEST_CRASH_AT=after:25 "$RBX_HOOKS" run gpu-fault --node n43 --lab >/dev/null 2>&1
id=$(journal_ids n43)
check "valgrind: a resume after a crash (replay, in-doubt decision, reopened journal)" "vg resume $id --assume-done >out.txt 2>vg.txt; no_vg_error \$? || { cat vg.txt; exit 1; }"
check "valgrind: a roll over two nodes (the roll's own process)" "vg roll gpu-fault --nodes 'm[1-2]' --lab --batch 2 >out.txt 2>vg.txt; no_vg_error \$? || { cat out.txt vg.txt; exit 1; }"
printf 'fleet: {etcd: "http://127.0.0.1:9", budgets: {pool: 1}}\nnodes:\n  - {match: "a[1-3]", transport: lab, labels: {pool: p}}\n' > inv.yaml
check "valgrind: nodes with a pattern that skips some (their labels were once leaked)" "vg nodes a2 --inventory inv.yaml >out.txt 2>vg.txt && grep -q 'budget pool=p<=1' out.txt || { cat out.txt vg.txt; exit 1; }"
check "valgrind: a run refused because etcd cannot be reached (its failed request once leaked)" "vg run gpu-fault --node a1 --inventory inv.yaml >out.txt 2>vg.txt; [ \$? -eq 3 ] || { cat out.txt vg.txt; exit 1; }"

# rbx serve: webhook posts (the body arrives in pieces), a page, /metrics, a refused post
# and a catalogue reload, then SIGTERM; valgrind reports at the server's exit. (Each post
# once leaked its reply buffer.)
mkdir -p books && cp "$TOP/runbooks/gpu-fault.yaml" books/
printf 'a-receiver-token-0123456789\n' > recv.token
# Not through vg(): a function in the background is a subshell, and SIGTERM must reach
# valgrind itself.
RBX_RUNBOOKS="$WORK/books" valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$RBX" serve --lab --listen 127.0.0.1:0 --receiver-token-file recv.token >serve.out 2>vg.txt &
vpid=$!
i=0; P=
while [ -z "$P" ] && [ $i -lt 300 ]; do P=$(sed -n 's|^rbx serve: http://127.0.0.1:\([0-9]*\)/.*|\1|p' serve.out); i=$((i + 1)); sleep 0.1; done
hook() { curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Authorization: Bearer a-receiver-token-0123456789' --data-binary @"$TOP/tests/fixtures/alertmanager/firing-xid.json" "http://127.0.0.1:$P/alertmanager"; }
codes="$(hook) $(hook)"
touch -d '2001-01-01' books/gpu-fault.yaml
codes="$codes $(hook) $(curl -s -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$P/alertmanager" -d x)"
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/runbooks/gpu-fault?node=n42") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/metrics")"
kill -TERM $vpid; wait $vpid; rc=$?
check "valgrind: rbx serve answers ($codes) and stops with no leak" "[ '$codes' = '200 200 200 401 200 200' ] && [ $rc -eq 0 ] || { cat vg.txt; exit 1; }"
