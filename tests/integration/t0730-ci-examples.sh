# t0730-ci-examples: the CI examples a team copies (examples/ci/) do what they say. The
# checks they run, examples/ci/check.sh, run here on the example runbook repository
# (examples/runbooks: a runbook calling a site script, with its scenarios); it passes,
# writes JUnit and SARIF that validate, and fails on a broken runbook or scenario. Both
# CI files are valid YAML that build rbx and call the same script.
. "$TOP/tests/integration/lib.sh"

mkdir -p bin && ln -s "$RBX" bin/rbx
export PATH="$WORK/bin:$PATH" # the script calls rbx by name, as CI's installed one
cp -r "$TOP/examples/runbooks" runbooks
sh "$TOP/examples/ci/check.sh" runbooks > check.out 2>&1
rc=$?
check "check.sh passes on the example repository (exit $rc)" "[ $rc -eq 0 ] || { cat check.out; false; }"
check "it ran every scenario" "grep -q '^4 scenarios: 4 passed, 0 failed' check.out"
"$RBX" test runbooks --format json > res.json 2>/dev/null
check "its JUnit file is what CI reads" "python3 '$TOP/tests/tools/junit_check.py' rbx-test.xml res.json"
if /usr/bin/python3 -c 'import jsonschema, yaml' 2>/dev/null; then
	check "its SARIF validates" "/usr/bin/python3 -c 'import json, jsonschema; jsonschema.validate(json.load(open(\"rbx-lint.sarif\")), json.load(open(\"$TOP/tests/fixtures/sarif/sarif-2.1.0-subset.schema.json\")))'"
	check "both CI files are YAML that build rbx and run check.sh" "/usr/bin/python3 - '$TOP/examples/ci' <<'PY'
import sys, yaml
d = sys.argv[1]
gh = yaml.safe_load(open(d + '/github-workflow.yml'))
runs = ' '.join(s.get('run', '') for s in gh['jobs']['runbooks']['steps'])
assert 'make -C' in runs and 'sh ci/check.sh runbooks' in runs, runs
gl = yaml.safe_load(open(d + '/gitlab-ci.yml'))['runbooks']
assert 'sh ci/check.sh runbooks' in gl['script'] and gl['artifacts']['reports']['junit'] == 'rbx-test.xml'
PY"
else
	not_ok "python3-jsonschema and python3-yaml are needed (scripts/deps.sh check installs them)"
fi
GITHUB_ACTIONS=true sh "$TOP/examples/ci/check.sh" runbooks > gh.out 2>&1
rc=$?
check "on GitHub (annotations) it passes too ($rc)" "[ $rc -eq 0 ] && grep -q '^4 scenarios: 4 passed' gh.out"

# It fails for the reasons a team would be hurt by.
sed -i 's/exit: 3$/exit: 0/' runbooks/tests/gpu-clock-reset.yaml
sh "$TOP/examples/ci/check.sh" runbooks > fail1.out 2>&1
rc=$?
check "a scenario that no longer holds fails it ($rc)" "[ $rc -eq 1 ] && grep -q '^FAIL gpu-clock-reset' fail1.out"
cp "$TOP/examples/runbooks/tests/gpu-clock-reset.yaml" runbooks/tests/
sed -i 's/^    ssh: nvidia-smi -rgc$/    ssh: nvidia-smi -rgc\n    retries: lots/' runbooks/gpu-clock-reset.yaml
GITHUB_ACTIONS=true sh "$TOP/examples/ci/check.sh" runbooks > fail2.out 2>&1
rc=$?
check "a runbook that does not load fails it, annotated at its line ($rc)" "[ $rc -ne 0 ] && grep -q '^::error file=runbooks/gpu-clock-reset.yaml,line=21,col=14,' fail2.out"
