# t0001-cli: every command answers --help from its table; unknown input is a usage error.
. "$TOP/tests/integration/lib.sh"

for c in run resume roll plan lint list show runs log graph nodes lab docs schema version; do
	expect_exit "rbx $c --help exits 0" 0 "$c" --help
	check "rbx $c --help prints its usage line" "contains \"\$OUT\" 'usage: rbx $c'"
	check "rbx $c is in the README" "grep -q 'rbx $c' '$TOP/README.md'"
	check "rbx $c is in the man page" "grep -q '^\\\\fB$c\\\\fR\\|^.B $c\\|^\\.SS $c\\|\\\\fBrbx $c' '$TOP/docs/rbx.1'"
done
expect_exit "no command is a usage error" 2
expect_exit "an unknown command is a usage error" 2 frobnicate
check "an unknown command names itself" "contains \"\$ERR\" \"'frobnicate' is not an rbx command\""
expect_exit "prefixes are not commands (rbx never guesses)" 2 ru gpu-fault
expect_exit "an unknown option is a usage error" 2 plan gpu-fault --node n42 --bogus
expect_exit "a missing option value is a usage error" 2 plan gpu-fault --node
expect_exit "rbx version" 0 version
check "version names the libraries" "contains \"\$OUT\" 'libyaml'"
expect_exit "rbx list" 0 list
check "list shows gpu-fault under its subsystem" "contains \"\$OUT\" 'gpu-hardware' && contains \"\$OUT\" 'gpu-fault'"
expect_exit "rbx list --format json" 0 list --format json
check "list json parses" "printf '%s' \"\$OUT\" | python3 -c 'import json,sys; assert any(r[\"name\"]==\"gpu-fault\" for r in json.load(sys.stdin))'"
expect_exit "rbx show gpu-fault" 0 show gpu-fault
check "show prints the run line" "contains \"\$OUT\" 'rbx run gpu-fault --node NODE'"
expect_exit "a bad --format is refused" 2 list --format yaml
expect_exit "rbx schema" 0 schema
check "the format doc embeds the schema rbx prints" "\"$RBX\" schema > schema.md && python3 - '$TOP/docs/runbook-format.md' schema.md <<'PY'
import sys
doc = open(sys.argv[1]).read()
gen = open(sys.argv[2]).read()
assert gen.strip() in doc, 'docs/runbook-format.md is stale: regenerate its reference with rbx schema'
PY"
