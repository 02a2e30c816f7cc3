# t0130-conformance: every runbook step that reads a tool's output reads the real tools'
# captured output (tests/fixtures/real) the way it reads the lab's in the same situation,
# and reads it right where the index says what is right (tests/tools/conformance.py).
. "$TOP/tests/integration/lib.sh"

rx="$TOP/${BUILD:-build/release}/tests/rbx-rx"
conf() { python3 "$TOP/tests/tools/conformance.py" "$RBX" "$rx" "$1" --report "$WORK/report.json" --markdown "$WORK/real-output.md"; }

check "the catalogue reads real output as the lab's (and right)" "conf '$TOP/tests/fixtures/real/index.json' > conf.out 2>&1 || { cat conf.out; exit 1; }"
check "docs/runbooks/real-output.md shows what it read (run: make docs)" "diff '$WORK/real-output.md' '$TOP/docs/runbooks/real-output.md'"
check "it checked enough to mean something (>= 40 captures, >= 60 checks)" "python3 -c '
import json, sys
r = json.load(open(\"$WORK/report.json\"))
idx = json.load(open(\"$TOP/tests/fixtures/real/index.json\"))
assert len(idx[\"fixtures\"]) >= 40, len(idx[\"fixtures\"])
assert len(r[\"checks\"]) >= 60, len(r[\"checks\"])
'"
check "every capture names its source, version and hardware" "python3 -c '
import json
for f in json.load(open(\"$TOP/tests/fixtures/real/index.json\"))[\"fixtures\"]:
    for k in (\"source\", \"version\", \"hardware\", \"what\"):
        assert f.get(k), (f[\"file\"], k)
    assert f[\"lab\"] is not None or f.get(\"lab_gap\"), (f[\"file\"], \"lab or lab_gap\")
'"

# The test fails for the reason an operator would be hurt: gpu-fault as it was (the last
# XID line only, this boot only, the PCI: form only) misreads real kernel logs.
mkdir -p old
cp "$TOP"/runbooks/*.yaml old/
python3 - old/gpu-fault.yaml <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
a = s.index("    ssh: |\n      journalctl _TRANSPORT=kernel")
b = s.index("    expect: {stdout: 'Xid'}", a)
s = s[:a] + "    ssh: >-\n      journalctl -k --since=-{{params.window}} | grep -o 'Xid (PCI:[^)]*): [0-9]*' | tail -n 1\n" + s[b:]
open(p, "w").write(s)
PY
check "the old gpu-fault reading is caught misreading real logs" "! RBX_RUNBOOKS='$WORK/old' conf '$TOP/tests/fixtures/real/index.json' > old.out 2>&1 && grep -q 'gpu-fault/pre_checks/1 misreads real journal-k-xid45' old.out && grep -q 'misreads real kern-xid16-old-format' old.out"
