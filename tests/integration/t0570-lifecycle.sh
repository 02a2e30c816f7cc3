# t0570-lifecycle: processes. A step's group is ended while its shell is still a
# zombie (its id cannot be reused in between); a roll passes SIGTERM on to every
# node's run and holds a lock on its own journal.
. "$TOP/tests/integration/lib.sh"

cat > hold.yaml <<'Y'
name: hold
title: Hold the node a while
subsystem: provisioning
summary: Keeps the node out of service for a given time.
trigger: {summary: test}
params:
  secs: {description: how long, default: '1', pattern: '^[0-9]+$'}
guard: {cordon: true, drain: true}
procedure:
  - name: work on the node
    ssh: sleep {{params.secs}}
    idempotent: true
    timeout: 5m
verify:
  - {name: v, ssh: nvidia-smi -L}
rollback:
  - {name: r, ssh: nvidia-smi -L}
references: [https://example.invalid]
Y

# 1. The group is killed before the shell is reaped.
strace -f -e trace=execve,kill,wait4,waitid -o st.txt "$RBX" run "$WORK/hold.yaml" --node p1 --lab --param secs=0 >/dev/null 2>&1
check "for every step shell: kill of its group, then the reap" "python3 - st.txt <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
# The step shells: processes that exec sh -c (a sanitizer's own helpers do not).
shells = {l.split()[0] for l in lines if re.search(r'execve\\(\"/bin/sh\", \\[\"sh\", \"-c\"', l)}
killed, bad, n = set(), [], 0
for l in lines:
    m = re.search(r'kill\\(-(\\d+), SIGKILL\\)', l)
    if m: killed.add(m.group(1))
    m = re.search(r'wait4\\((\\d+), .*= (\\d+)', l)
    if m and m.group(1) == m.group(2) and m.group(1) in shells:
        n += 1
        if m.group(1) not in killed: bad.append(m.group(1))
assert n > 0, 'no reap of a step shell seen (%d shells)' % len(shells)
assert not bad, 'reaped before the group was killed: %s' % bad
PY"

# 2. SIGTERM to the roll alone reaches every node's run.
"$RBX" roll "$WORK/hold.yaml" --nodes 'q[1-2]' --batch 2 --lab --param secs=57 > roll.out 2>&1 &
rp=$!
i=0; until [ "$(ls "$RBX_STATE_DIR/runs" 2>/dev/null | wc -l)" -ge 2 ] && [ "$(pgrep -fc '^sleep 57$')" -ge 2 ]; do i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.1; done
roll=$(journal_ids '' "$RBX_STATE_DIR/rolls")
expect_exit "a second driver of the same roll is refused while it runs (exit 5)" 5 resume "$roll"
kill -TERM "$rp"
t0=$(date +%s%N)
wait "$rp"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the roll stops with exit 130 ($rc) in good time (${ms} ms)" "[ $rc -eq 130 ] && [ $ms -lt 5000 ]"
check "both node runs were interrupted, none left running" "[ \$(grep -l '\"state\":\"INTERRUPTED\"' '$RBX_STATE_DIR'/runs/*.jsonl | wc -l) -eq 2 ] && ! pgrep -f '^sleep 57\$'"
