# t0140-rules: the catalogue's alerting rules. The committed rule file is what
# `rbx rules` renders today; the real promtool accepts it and its unit tests pass
# (each alert fires on its series and stays quiet on a healthy node); every alert a
# runbook routes has exactly one rule; bad rules are refused with file:line:col.
. "$TOP/tests/integration/lib.sh"

if ! command -v promtool >/dev/null; then
	not_ok "promtool is needed (scripts/deps.sh check installs prometheus)"
	exit 0
fi
BASE=http://rbx.example:9095
expect_exit "rbx rules renders the catalogue's rules" 0 rules --base-url "$BASE" --runbooks "$TOP/runbooks"
printf '%s\n' "$OUT" > "$WORK/rbx-rules.yml"
check "docs/alerts/rbx-rules.yml is not stale (run: make docs)" "diff '$WORK/rbx-rules.yml' '$TOP/docs/alerts/rbx-rules.yml'"
expect_exit "rbx rules --tests renders their promtool tests" 0 rules --base-url "$BASE" --tests rbx-rules.yml --runbooks "$TOP/runbooks"
printf '%s\n' "$OUT" > "$WORK/rbx-rules.test.yml"
check "docs/alerts/rbx-rules.test.yml is not stale (run: make docs)" "diff '$WORK/rbx-rules.test.yml' '$TOP/docs/alerts/rbx-rules.test.yml'"
check "promtool check rules accepts the rule file" "promtool check rules '$WORK/rbx-rules.yml'"
check "promtool test rules: every alert fires on its series and stays quiet on a healthy node" "cd '$WORK' && promtool test rules rbx-rules.test.yml"

# The file links every alert to its runbook's page for the alert's node, and every
# alert a runbook's trigger routes has a rule (and every rule names a runbook).
check "every rule carries a runbook label, a runbook_url for its node, summary and description" "python3 - '$WORK/rbx-rules.yml' '$TOP/runbooks' <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
rules = re.findall(r\"- alert: (\\w+)\\n(.*?)(?=\\n      - alert:|\\n  - name:|\\Z)\", text, re.S)
assert len(rules) >= 23, len(rules)
for name, body in rules:
    rb = re.search(r'runbook: ([a-z0-9-]+)', body).group(1)
    assert os.path.exists(os.path.join(sys.argv[2], rb + '.yaml')), (name, rb)
    assert re.search(r\"runbook_url: '\" + re.escape('http://rbx.example:9095/runbooks/' + rb) + r\"\\?node=\\{\\{ \\\$labels\\.\\w+ \\| urlquery \\}\\}'\", body), name
    assert 'summary: ' in body and 'description: ' in body, name
routed = set()
for f in [x for x in os.listdir(sys.argv[2]) if x.endswith('.yaml')]:
    routed |= set(re.findall(r'alertname: (\\w+)', open(os.path.join(sys.argv[2], f)).read()))
assert routed == {n for n, _ in rules}, routed ^ {n for n, _ in rules}
PY"
check "every runbook trigger has at least one rule" "for f in '$TOP'/runbooks/*.yaml; do grep -q '^  rules:' \"\$f\" || { echo \"\$f\"; exit 1; }; done"

# The tests can fail: a rule that never fires is caught by promtool.
mkdir -p "$WORK/broken"
sed 's/expr: .DCGM_FI_DEV_ROW_REMAP_FAILURE > 0./expr: '"'"'DCGM_FI_DEV_ROW_REMAP_FAILURE > 1'"'"'/' "$WORK/rbx-rules.yml" > "$WORK/broken/rbx-rules.yml"
cp "$WORK/rbx-rules.test.yml" "$WORK/broken/"
check "(a rule changed so it never fires fails its test)" "grep -q 'ROW_REMAP_FAILURE > 1' '$WORK/broken/rbx-rules.yml' && ! (cd '$WORK/broken' && promtool test rules rbx-rules.test.yml)"

# Bad input: an alert routed with no rule, a rule nothing routes, a template that is
# not {{ $labels.NAME }}, a test without the node label; and a bad base URL.
mkdir -p "$WORK/rb1" "$WORK/rb2" "$WORK/rb3"
gf="$TOP/runbooks/gpu-fault.yaml"
sed 's/^    - {alertname: GpuRowRemapFailure}$/    - {alertname: GpuRowRemapFailure}\n    - {alertname: GpuNoSuchRule}/' "$gf" > "$WORK/rb1/gpu-fault.yaml"
expect_exit "an alert a trigger routes but no runbook has a rule for is refused" 2 rules --base-url "$BASE" --runbooks "$WORK/rb1"
check "(it names the runbook and the alert)" "contains \"\$ERR\" 'gpu-fault.yaml: alert GpuNoSuchRule has no rule'"
sed 's/^    - {alertname: GpuRowRemapFailure}$//' "$gf" > "$WORK/rb2/gpu-fault.yaml"
expect_exit "a rule for an alert the trigger does not route is refused" 2 lint "$WORK/rb2/gpu-fault.yaml"
check "(file:line:col, and why)" "contains \"\$OUT\$ERR\" 'gpu-fault.yaml:[0-9]*:[0-9]*: .*would not route here'"
sed 's/summary: .Row remapping failed on GPU {{ $labels.gpu }}/summary: '"'"'Row remapping failed on GPU {{ .Labels.gpu }}/' "$gf" > "$WORK/rb3/gpu-fault.yaml"
expect_exit "an annotation template other than {{ \$labels.NAME }} is refused" 2 lint "$WORK/rb3/gpu-fault.yaml"
check "(file:line:col)" "contains \"\$OUT\$ERR\" 'gpu-fault.yaml:[0-9]*:[0-9]*: .*\$labels.NAME'"
sed 's/labels: {Hostname: .n42., gpu: .3., UUID:/labels: {gpu: '"'"'3'"'"', UUID:/' "$gf" > "$WORK/rb3/gpu-fault.yaml"
expect_exit "a test whose firing alert does not name the node is refused" 2 lint "$WORK/rb3/gpu-fault.yaml"
check "(it says which label)" "contains \"\$OUT\$ERR\" \"must name the node ('Hostname')\""
expect_exit "a base URL with a quote is refused" 2 rules --base-url "http://x'y" --runbooks "$TOP/runbooks"
expect_exit "a base URL with a trailing slash is refused" 2 rules --base-url "http://rbx.example/" --runbooks "$TOP/runbooks"
expect_exit "no base URL is refused" 2 rules --runbooks "$TOP/runbooks"
