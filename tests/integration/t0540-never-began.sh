# t0540-never-began: a run killed before its first record changed nothing, and
# every command says so alike: runs, log and resume. It is never "unfinished".
. "$TOP/tests/integration/lib.sh"

RBX_TEST_CRASH_AT=before:1 "$RBX_HOOKS" run gpu-fault --node n42 --lab >/dev/null 2>&1
id=$(ls "$RBX_STATE_DIR/runs" | sed 's/.jsonl$//')
check "the kill left an empty journal" "[ -n '$id' ] && [ ! -s '$RBX_STATE_DIR/runs/$id.jsonl' ]"
expect_exit "rbx runs lists it" 0 runs
check "as never begun, not unfinished (no *)" "contains \"\$OUT\" '$id.*NEVER_BEGAN' && ! contains \"\$OUT\" 'NEVER_BEGAN\\*' && ! contains \"\$OUT\" UNREADABLE"
expect_exit "rbx log explains it" 0 log "$id"
check "nothing was changed, and no 'continue with'" "contains \"\$OUT\" 'never began' && contains \"\$OUT\" 'nothing was changed' && ! contains \"\$OUT\" 'continue with'"
expect_exit "rbx resume refuses it the same way (exit 2)" 2 resume "$id"
check "saying it never began" "contains \"\$ERR\" 'never began' && contains \"\$ERR\" 'nothing was changed'"
"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
expect_exit "a new run on the node succeeds" 0 run gpu-fault --node n42 --lab
expect_exit "and rbx runs" 0 runs --format json
check "shows no unfinished run" "printf '%s' \"\$OUT\" | python3 -c 'import json,sys; assert all(r[\"finished\"] for r in json.load(sys.stdin))'"
