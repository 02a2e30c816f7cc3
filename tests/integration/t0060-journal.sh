# t0060-journal: the journal is private (0600), ordered, written before each side
# effect (fdatasync'd intent, proven with strace), and survives a torn last line.
. "$TOP/tests/integration/lib.sh"

"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
expect_exit "a lab run for the journal" 0 run gpu-fault --node n42 --lab
j=$(ls "$RBX_STATE_DIR"/runs/*.jsonl | head -n 1)
check "the journal file is mode 0600" "[ \"\$(stat -c %a '$j')\" = 600 ]"
check "the runs dir is mode 0700" "[ \"\$(stat -c %a '$RBX_STATE_DIR/runs')\" = 700 ]"
check "the lab state file is mode 0600" "[ \"\$(stat -c %a '$RBX_STATE_DIR/lab/nodes/n42/state.json')\" = 600 ]"
check "records are numbered 1..N in order and every start has its end" "python3 - '$j' <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r['seq'] for r in recs] == list(range(1, len(recs) + 1))
assert recs[0]['type'] == 'run_start' and recs[-1]['type'] == 'run_end'
open_steps = {}
for r in recs:
    key = (r.get('phase'), r.get('index'), r.get('attempt'), r.get('try'))
    if r['type'] == 'step_start':
        assert key not in open_steps
        open_steps[key] = r['seq']
    elif r['type'] == 'step_end' and r.get('kind') in ('ssh', 'run'):
        assert open_steps.pop(key) < r['seq']
assert not open_steps, open_steps
PY"

if command -v strace >/dev/null 2>&1; then
	"$RBX" lab reset n42 >/dev/null
	"$RBX" lab inject n42 xid=48 gpu=3 >/dev/null
	# LeakSanitizer cannot run under ptrace; the ASan build's leak checks run elsewhere.
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -s 4096 -o trace.txt -e trace=write,fdatasync,clone,clone3,vfork "$RBX" run gpu-fault --node n42 --lab >/dev/null 2>&1
	# A step that changes the node waits for fdatasync; a read-only one for the write alone
	# (it has no side effect to announce; the next sync carries its record).
	check "every step's intent is written before its process starts, and fdatasync'd first if it changes the node" "python3 - trace.txt <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
main = lines[0].split()[0]
intent = synced = mutates = False
spawns = {True: 0, False: 0}
for l in lines:
    pid, rest = l.split(None, 1)
    if pid != main:
        continue
    if rest.startswith('write(') and 'step_start' in rest:
        intent, synced = True, False
        mutates = '\\\\\"mutates\\\\\":true' in rest
        assert mutates or '\\\\\"mutates\\\\\":false' in rest, 'no mutates in ' + rest[:200]
    elif rest.startswith('fdatasync('):
        synced = synced or intent
    elif rest.startswith('vfork(') or (re.match(r'clone3?\(', rest) and (
            'CLONE_VFORK' in rest or ('SIGCHLD' in rest and 'CLONE_VM' not in rest))):
        # posix_spawn's vfork-style clone, or the fork of a confined lab step; other
        # clones (a sanitizer's helpers share the memory: CLONE_VM) are not steps
        assert intent and (synced or not mutates), 'a process started before its intent was on disk: ' + l
        spawns[mutates] += 1
        intent = synced = False
assert spawns[True] >= 3 and spawns[False] >= 5, spawns
PY"
else
	not_ok "strace is needed to prove the intent ordering (scripts/deps.sh installs it)"
fi

printf '{"type":"step_start","seq":99,"phase":"procedure"' >> "$j"
id=$(basename "$j" .jsonl)
expect_exit "rbx log reads a journal with a torn last line" 0 log "$id"
check "and says the last line was torn" "contains \"\$OUT\" 'torn'"
printf 'not json at all\n{"type":"x"}\n' >> "$j"
expect_exit "a damaged line in the middle is an error, not a crash" 2 log "$id"

# A secret that holds another secret is hidden whole: no part of either reaches the journal.
cat > sec.yaml <<'Y'
name: sec
title: Two secrets, one inside the other
subsystem: driver
summary: prints both secrets, as a careless tool might
trigger: {summary: manual, alerts: [{alertname: RbxTest, severity: info}]}
references: [https://example.invalid]
guard: {none: reads only}
params:
  token: {description: short secret, secret: true}
  password: {description: long secret, secret: true}
procedure:
  - {name: leak, run: 'echo login {{params.password}} / {{params.token}}', mutates: false}
verify:
  - {name: done, run: 'test -n {{params.token}}', mutates: false}
Y
expect_exit "a run whose step prints two secrets" 0 run "$WORK/sec.yaml" --node n42 --lab --param token=Zq7x --param password=Zq7xK9wPL
j=$(ls -t "$RBX_STATE_DIR"/runs/*.jsonl | head -n 1)
check "neither secret, nor any part of the longer one, is in the journal" "! grep -q -e Zq7x -e K9wPL '$j' && grep -q 'login \*\*\* / \*\*\*' '$j'"
check "nor on the terminal" "! printf '%s' \"\$OUT\$ERR\" | grep -q -e Zq7x -e K9wPL"
