# t0830-load: 50 runs at once on 50 lab nodes, then a roll over 200 lab nodes in batches
# of 32. Every journal is whole (each line a record, each run ended SUCCEEDED), every
# step saw the same file descriptors as a lone run's step (none leaked into children),
# nothing is left running, and each run's peak memory stays bounded (recorded).
. "$TOP/tests/integration/lib.sh"

mkdir -p books
cat > books/load.yaml <<'Y'
name: load
title: Five quick steps behind the guard
subsystem: provisioning
summary: Reads the GPUs, counts its file descriptors, resets the clocks, proves the GPUs.
trigger: {summary: test}
guard: {cordon: true, drain: true, drain_timeout: 1m}
pre_checks:
  - {name: the GPUs answer, ssh: nvidia-smi -L, timeout: 1m}
  - {name: the descriptors a step gets, ssh: ls /proc/self/fd | wc -l, timeout: 1m, capture: fds}
procedure:
  - {name: reset the clocks, ssh: nvidia-smi -rgc, timeout: 1m}
verify:
  - {name: the GPUs answer again, ssh: nvidia-smi -L, timeout: 1m}
  - {name: the descriptors still, ssh: ls /proc/self/fd | wc -l, timeout: 1m}
rollback:
  - {name: look again, ssh: nvidia-smi -L, timeout: 1m}
references: [https://example.invalid]
Y
export RBX_RUNBOOKS="$WORK/books"
# A lone run first, with a descriptor of the caller's open (as a CI runner leaves them):
# a step sees stdin, stdout, stderr and the one ls opens to list them, nothing of ours.
"$RBX" run load --node solo --lab > solo.out 2>&1 9> leak.txt
base=$(grep -h '"name":"the descriptors a step gets"' "$RBX_STATE_DIR"/runs/*solo*.jsonl | grep -o '"fds":"[0-9]*"' | head -n 1 | tr -dc 0-9)
check "a lone step sees $base descriptors: 0, 1, 2 and ls's own, none of its caller's" "[ '$base' = 4 ]"

# 50 at once, each under /usr/bin/time for its peak RSS.
i=1
while [ $i -le 50 ]; do
	/usr/bin/time -f '%M' -o "rss.$i" "$RBX" run load --node "c$i" --lab > "c$i.out" 2>&1 &
	i=$((i + 1))
done
wait
check "50 concurrent runs all SUCCEEDED" "[ \$(grep -l '^.* end SUCCEEDED exit=0' c*.out | wc -l) -eq 50 ]"
cat > whole.py <<'PY'
import glob, json, sys
bad, ended, fds = [], 0, set()
for path in glob.glob(sys.argv[1] + "/*.jsonl"):
    data = open(path, "rb").read()
    if not data.endswith(b"\n"):
        bad.append(path + ": ends in a torn line")
    recs = []
    for n, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            recs.append(json.loads(line))
        except ValueError:
            bad.append("%s:%d: not a record" % (path, n))
    seqs = [r.get("seq") for r in recs]
    if seqs != list(range(1, len(recs) + 1)):
        bad.append(path + ": records missing or out of order")
    if recs and recs[-1]["type"] == "run_end" and recs[-1]["state"] == "SUCCEEDED":
        ended += 1
    for r in recs:
        if r.get("type") == "step_end" and "descriptors" in r.get("name", ""):
            fds.add(r["stdout_tail"].strip())
print(ended, " ".join(sorted(fds)))
for b in bad[:10]:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
python3 whole.py "$RBX_STATE_DIR/runs" > whole.out 2> whole.err
rc=$?
check "every journal whole: each line a record, in sequence, none torn ($rc)" "[ $rc -eq 0 ] || { cat whole.err; false; }"
check "every step saw $base descriptors, as a lone step does ($(cut -d' ' -f2- whole.out))" "[ \"\$(cut -d' ' -f2- whole.out)\" = '$base' ]"
peak=$(cat rss.* | sort -n | tail -n 1)
# (ASan's shadow memory is most of a sanitized process: memory is judged in the release pass.)
[ "${SANITIZE:-}" = 1 ] || check "each run's peak memory bounded: at most 64 MB (the largest: ${peak} KiB)" "[ '$peak' -le 65536 ]"
echo "# peak RSS of 50 concurrent runs (KiB): min $(cat rss.* | sort -n | head -n 1), max $peak"

# A run does not grow with its steps: 1000 steps that each print 8 KiB peak within 4 MB of
# 50 such steps (kept whole, the output alone would be 8 MB; a step keeps its tails only).
grow() { # grow NAME STEPS
	{
		printf 'name: %s\ntitle: Many steps\nsubsystem: provisioning\nsummary: Prints.\n' "$1"
		printf 'trigger: {summary: test}\nguard: {none: it only reads}\nprocedure:\n'
		i=1
		while [ $i -le "$2" ]; do
			printf "  - {name: s%d, ssh: \"printf '%%8192s' x\", mutates: false}\n" $i
			i=$((i + 1))
		done
		printf 'verify:\n  - {name: v, ssh: nvidia-smi -L}\nreferences: [https://example.invalid]\n'
	} > "books/$1.yaml"
	/usr/bin/time -f '%M' -o "rss.$1" "$RBX" run "$1" --node g1 --lab > "$1.out" 2>&1
}
if [ "${SANITIZE:-}" != 1 ]; then
	grow grow50 50
	grow grow1000 1000
	check "a 1000-step run ends SUCCEEDED" "grep -q 'end SUCCEEDED' grow1000.out || { tail -n 5 grow1000.out; false; }"
	check "its peak memory is within 4 MB of a 50-step run's ($(cat rss.grow50) KiB, $(cat rss.grow1000) KiB)" \
		"[ \$(( \$(cat rss.grow1000) - \$(cat rss.grow50) )) -le 4096 ]"
	echo "# peak RSS of a 50-step and a 1000-step run (KiB): $(cat rss.grow50) $(cat rss.grow1000)"
fi

# A roll over 200 nodes, 32 at a time.
/usr/bin/time -f '%M' -o rss.roll "$RBX" roll load --nodes 'r[001-200]' --batch 32 --lab --yes > roll.out 2>&1
rc=$?
check "a roll over 200 lab nodes, 32 at a time, succeeds on every node ($rc)" "[ $rc -eq 0 ] && grep -q '200 succeeded, 0 failed' roll.out || { tail -n 5 roll.out; false; }"
python3 whole.py "$RBX_STATE_DIR/runs" > whole.out 2> whole.err
rc=$?
want=251 # the 50 runs, the lone one, the roll's 200; and the two long runs above
[ "${SANITIZE:-}" = 1 ] || want=253
check "all $want journals whole, each ended SUCCEEDED ($(cut -d' ' -f1 whole.out))" "[ $rc -eq 0 ] && [ \"\$(cut -d' ' -f1 whole.out)\" -eq $want ] || { cat whole.err; false; }"
check "the roll's own journal is whole" "python3 whole.py '$RBX_STATE_DIR/rolls' >/dev/null"
check "every roll step saw $base descriptors too" "[ \"\$(cut -d' ' -f2- whole.out)\" = '$base' ]"
[ "${SANITIZE:-}" = 1 ] || check "the roll's parent stayed small ($(cat rss.roll) KiB)" "[ \$(cat rss.roll) -le 65536 ]"
echo "# peak RSS of the 200-node roll's parent (KiB): $(cat rss.roll)"
# Nothing left running: no process has its working directory in this test's state dir.
check "no process is left with a working directory in the state dir" "! ls -l /proc/[0-9]*/cwd 2>/dev/null | grep -q '$RBX_STATE_DIR'"
