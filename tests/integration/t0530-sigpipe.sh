# t0530-sigpipe: a reader that goes away (`rbx run ... | head`) does not kill a run
# mid-procedure: the report stops, the run and its journal go on to the end.
. "$TOP/tests/integration/lib.sh"

"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
{ "$RBX" run gpu-fault --node n42 --lab --format json 2>err.txt; echo $? > rc; } | head -n 16 > head.out
check "the reader got its 16 lines" "[ \$(wc -l < head.out) -eq 16 ]"
check "rbx went on and exited 0, not 141 ($(cat rc))" "[ \"\$(cat rc)\" = 0 ]"
J=$(ls "$RBX_STATE_DIR"/runs/*.jsonl)
check "the journal ends with run_end SUCCEEDED" "tail -n 1 '$J' | grep -q '\"type\":\"run_end\",\"state\":\"SUCCEEDED\"'"
check "the node is back in service, repaired" "[ \"\$(sched_field n42 cordoned)\" = False ]"
"$RBX" lab reset n42 >/dev/null && "$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
{ "$RBX" run gpu-fault --node n42 --lab 2>/dev/null; echo $? > rc; } | head -n 3 > /dev/null
check "plain text output too ($(cat rc))" "[ \"\$(cat rc)\" = 0 ]"
