# t0710-schema-lint-formats: what CI and editors read from rbx. The JSON Schema that
# `rbx schema --format json-schema` generates from the loader's table is a valid 2020-12
# schema, every catalogue runbook validates against it, and a set of bad runbooks is
# refused by both it and the loader. `rbx lint --format sarif` validates against SARIF
# 2.1.0 (the standard's own constraints on what rbx writes); github annotations and JSON
# say the same findings, each at file, line and column. (python3-jsonschema, python3-yaml.)
. "$TOP/tests/integration/lib.sh"

PY=/usr/bin/python3 # Debian's, with Debian's python3-jsonschema and python3-yaml
if ! $PY -c 'import jsonschema, yaml' 2>/dev/null; then
	not_ok "python3-jsonschema and python3-yaml are needed (scripts/deps.sh check installs them)"
	exit 0
fi
"$RBX" schema --format json-schema > schema.json
check "docs/runbook.schema.json is what rbx generates (run: make docs)" "cmp schema.json '$TOP/docs/runbook.schema.json'"
check "it is a valid JSON Schema 2020-12" "$PY -c 'import json, jsonschema; jsonschema.Draft202012Validator.check_schema(json.load(open(\"schema.json\")))'"
cat > validate.py <<'PY'
import json, sys
import jsonschema, yaml
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
bad = 0
for f in sys.argv[2:]:
    errs = sorted(v.iter_errors(yaml.safe_load(open(f))), key=lambda e: list(e.path))
    if errs:
        bad += 1
        print("%s: %s at %s" % (f, errs[0].message[:160], "/".join(map(str, errs[0].path))))
sys.exit(1 if bad else 0)
PY
check "all 23 runbooks validate against it" "[ \$(ls '$TOP'/runbooks/*.yaml | wc -l) -eq 23 ] && $PY validate.py schema.json '$TOP'/runbooks/*.yaml"

# Bad runbooks: each one a fault both the schema and the loader must refuse.
mkdir -p bad
mk() { # NAME: gpu-fault with one change (a sed script)
	sed "$2" "$TOP/runbooks/gpu-fault.yaml" > "bad/$1.yaml"
	sed -i "s/^name: gpu-fault$/name: $1/" "bad/$1.yaml"
	check "(the change to $1 took)" "! cmp -s '$TOP/runbooks/gpu-fault.yaml' 'bad/$1.yaml'"
}
mk unknown-key 's/^title: /titel: /'
mk no-verify '/^verify:/,/^rollback:/{/^rollback:/!d}'
mk bad-subsystem 's/^subsystem: .*/subsystem: gpu-fairy/'
mk bad-duration '0,/timeout: [0-9]*[smh]/s/timeout: [0-9]*[smh]/timeout: 10/'
mk two-actions '0,/^  - name: \(.*\)$/s/^  - name: \(.*\)$/  - name: \1\n    run: "true"/'
mk bad-retries '0,/^    ssh: /s/^    ssh: /    retries: many\n    ssh: /'
mk bad-mutates '0,/^    ssh: /s/^    ssh: /    mutates: sometimes\n    ssh: /'
for f in bad/*.yaml; do
	n=$(basename "$f" .yaml)
	check "$n: the schema refuses it" "! $PY validate.py schema.json '$f' >/dev/null"
	check "$n: the loader refuses it (rbx lint, exit 2)" "! '$RBX' lint '$f' 2>/dev/null"
done

# Lint for CI: SARIF, GitHub annotations and JSON over a catalogue with two bad runbooks.
mkdir -p mixed && cp "$TOP/runbooks/gpu-fault.yaml" "$TOP/runbooks/nccl-hang.yaml" bad/unknown-key.yaml bad/bad-subsystem.yaml mixed/
"$RBX" lint --format sarif mixed > lint.sarif 2>/dev/null
check "lint --format sarif: exit 2 on errors, SARIF 2.1.0 that validates" "$PY -c 'import json, jsonschema; jsonschema.validate(json.load(open(\"lint.sarif\")), json.load(open(\"$TOP/tests/fixtures/sarif/sarif-2.1.0-subset.schema.json\")))'"
check "its results name the file, line and column of each fault" "$PY -c 'import json; r=json.load(open(\"lint.sarif\"))[\"runs\"][0][\"results\"]; locs=[(x[\"locations\"][0][\"physicalLocation\"][\"artifactLocation\"][\"uri\"], x[\"locations\"][0][\"physicalLocation\"][\"region\"][\"startLine\"], x[\"ruleId\"]) for x in r]; assert (\"mixed/unknown-key.yaml\", 2, \"rbx/load\") in locs and any(u == \"mixed/bad-subsystem.yaml\" for u, _, _ in locs), locs'"
"$RBX" lint --format github mixed > lint.gh 2>/dev/null
rc=$?
check "lint --format github: one annotation a finding, exit 2 ($rc)" "[ $rc -eq 2 ] && grep -q '^::error file=mixed/unknown-key.yaml,line=2,col=1,title=rbx lint::unknown key .titel.' lint.gh && [ \$(grep -c '^::' lint.gh) -eq \$($PY -c 'import json; print(len(json.load(open(\"lint.sarif\"))[\"runs\"][0][\"results\"]))') ]"
"$RBX" lint --format json mixed > lint.json 2>/dev/null
check "lint --format json: the same findings, counted" "$PY -c 'import json; d=json.load(open(\"lint.json\")); assert d[\"runbooks\"] == 4 and d[\"errors\"] == len([x for x in d[\"diagnostics\"] if x[\"level\"] == \"error\"]) > 0, d'"
printf 'name: x\n"k\\n::error::injected%%0A": 1\n' > mixed/inject.yaml
"$RBX" lint --format github mixed/inject.yaml > inject.gh 2>/dev/null
check "(a message holds the hostile key)" "grep -q 'injected' inject.gh"
check "an annotation's message cannot start a workflow command of its own" "! grep -q '^::error::injected' inject.gh && grep -q 'k%0A::error::injected%250A' inject.gh && [ \$(wc -l < inject.gh) -eq \$(grep -c '^::' inject.gh) ]"
"$RBX" lint --format sarif "$TOP/runbooks" > clean.sarif 2>/dev/null
check "the catalogue lints clean in SARIF too (exit 0, no results)" "$PY -c 'import json; assert json.load(open(\"clean.sarif\"))[\"runs\"][0][\"results\"] == []'"
