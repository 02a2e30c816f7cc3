# t0120-docs: docs/runbooks/ is what `rbx docs` renders from runbooks/ today, and
# each page holds what an on-call engineer opens it for.
. "$TOP/tests/integration/lib.sh"

expect_exit "rbx docs renders the catalogue" 0 docs --out "$WORK/pages" --runbooks "$TOP/runbooks"
check "docs/runbooks is not stale (run: ./rbx docs --out docs/runbooks)" "diff -r '$WORK/pages' '$TOP/docs/runbooks'"
check "one page per runbook plus the index" "[ \$(ls '$WORK/pages' | wc -l) -eq \$(( \$(ls '$TOP/runbooks' | wc -l) + 1 )) ]"
for f in "$TOP"/runbooks/*.yaml; do
	rb=$(basename "$f" .yaml)
	check "$rb's page has its sections and the exact rbx run line" "for s in '## Run it' '## Trigger' '## Guard' '## Pre-checks' '## Procedure' '## Verify' '## Rollback'; do grep -q \"^\$s\" '$WORK/pages/$rb.md' || exit 1; done; grep -q '^rbx run $rb --node NODE' '$WORK/pages/$rb.md'"
done
check "the index groups the catalogue by subsystem" "for s in Driver 'GPU hardware' Fabric Scheduling Training Inference Provisioning; do grep -q \"^## \$s\" '$WORK/pages/README.md' || exit 1; done"
check "every runbook is in the index" "for f in '$TOP'/runbooks/*.yaml; do grep -q \"(\$(basename \$f .yaml).md)\" '$WORK/pages/README.md' || exit 1; done"
printf 'name: x\n' > "$WORK/bad.yaml"
mkdir -p "$WORK/badbooks" && cp "$WORK/bad.yaml" "$WORK/badbooks/"
expect_exit "rbx docs refuses an invalid catalogue" 2 docs --out "$WORK/p2" --runbooks "$WORK/badbooks"
