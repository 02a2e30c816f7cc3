# t0070-valgrind: no leak and no memory error on lab runs, lint and plan
# (skipped under SANITIZE=1, where ASan and LeakSanitizer do this job).
. "$TOP/tests/integration/lib.sh"

if [ "${SANITIZE:-}" = 1 ]; then
	ok "valgrind: skipped under SANITIZE=1 (ASan/LSan check the same)"
	exit 0
fi
vg() { valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$RBX" "$@"; }

"$RBX" lab inject n42 xid=48 gpu=3 dcgm=fail >/dev/null
check "valgrind: a lab run through rollback to FAILED" "vg run gpu-fault --node n42 --lab >out.txt 2>vg.txt; [ \$? -eq 1 ] || { cat vg.txt; exit 1; }"
"$RBX" lab reset n42 >/dev/null
"$RBX" lab inject n42 xid=79 gpu=3 persistent >/dev/null
check "valgrind: a lab run down the RMA path" "vg run gpu-fault --node n42 --lab --yes --format json >out.txt 2>vg.txt || { cat vg.txt; exit 1; }"
check "valgrind: lint of the catalogue and of a broken runbook" "vg lint '$TOP/runbooks' 2>vg.txt || { cat vg.txt; exit 1; }; printf 'name: x\nfoo: [\n' > b.yaml; vg lint b.yaml 2>vg.txt; [ \$? -eq 2 ] || { cat vg.txt; exit 1; }"
check "valgrind: plan, graph, runs, log" "vg plan gpu-fault --node n42 --format json >/dev/null 2>vg.txt && vg graph gpu-fault >/dev/null 2>>vg.txt && vg runs >/dev/null 2>>vg.txt && vg log \$(ls \$RBX_STATE_DIR/runs | head -n1 | sed 's/.jsonl//') >/dev/null 2>>vg.txt || { cat vg.txt; exit 1; }"
