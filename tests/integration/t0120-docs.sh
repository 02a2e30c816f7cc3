# t0120-docs: docs/runbooks/ is what `rbx docs` renders from runbooks/ today, and
# each page holds what an on-call engineer opens it for.
. "$TOP/tests/integration/lib.sh"

# The catalogue's pages sit beside real-output.md (tests/tools/conformance.py writes it,
# t0130 keeps it fresh) and link to it; a team's own pages, without one, do not.
mkdir -p "$WORK/pages"
cp "$TOP/docs/runbooks/real-output.md" "$WORK/pages/"
expect_exit "rbx docs renders the catalogue" 0 docs --out "$WORK/pages" --runbooks "$TOP/runbooks"
check "docs/runbooks is not stale (run: make docs)" "diff -r '$WORK/pages' '$TOP/docs/runbooks'"
check "one page per runbook plus the index and real-output.md" "[ \$(ls '$WORK/pages' | wc -l) -eq \$(( \$(ls '$TOP'/runbooks/*.yaml | wc -l) + 2 )) ]"
check "each catalogue page links to its real output" "for f in '$TOP'/runbooks/*.yaml; do grep -q \"(real-output.md#\$(basename \$f .yaml))\" '$WORK/pages/'\$(basename \$f .yaml).md || exit 1; done"
expect_exit "pages without real-output.md beside them" 0 docs --out "$WORK/plain" --runbooks "$TOP/runbooks"
check "link to none" "! grep -l 'real-output.md' '$WORK/plain'/*.md"
for f in "$TOP"/runbooks/*.yaml; do
	rb=$(basename "$f" .yaml)
	check "$rb's page has its sections and the exact rbx run line" "for s in '## Run it' '## Trigger' '## Guard' '## Pre-checks' '## Procedure' '## Verify' '## Rollback'; do grep -q \"^\$s\" '$WORK/pages/$rb.md' || exit 1; done; grep -q '^rbx run $rb --node NODE' '$WORK/pages/$rb.md'"
done
check "the index groups the catalogue by subsystem" "for s in Driver 'GPU hardware' Fabric Scheduling Training Inference Provisioning; do grep -q \"^## \$s\" '$WORK/pages/README.md' || exit 1; done"
check "every runbook is in the index" "for f in '$TOP'/runbooks/*.yaml; do grep -q \"(\$(basename \$f .yaml).md)\" '$WORK/pages/README.md' || exit 1; done"
printf 'name: x\n' > "$WORK/bad.yaml"
mkdir -p "$WORK/badbooks" && cp "$WORK/bad.yaml" "$WORK/badbooks/"
expect_exit "rbx docs refuses an invalid catalogue" 2 docs --out "$WORK/p2" --runbooks "$WORK/badbooks"
