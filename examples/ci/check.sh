#!/bin/sh
# check.sh - what CI runs on a repository of runbooks, the same on GitHub, GitLab and in
# rbx's own `make check`: lint (annotations on GitHub, SARIF for code scanning), a plan
# of every runbook on a lab node, and every scenario with JUnit XML and coverage.
# Usage: check.sh [RUNBOOK_DIR]   (default: runbooks; writes rbx-lint.sarif, rbx-test.xml)
set -eu
dir=${1:-runbooks}
format=text
[ -z "${GITHUB_ACTIONS:-}" ] || format=github # ::error file=...,line=...:: annotations

# SARIF first, whatever lint finds: the code-scanning upload wants the file either way.
rbx lint --format sarif "$dir" > rbx-lint.sarif || true
rbx lint --strict --format "$format" "$dir"

# Every runbook renders a plan for a node (no runbook may need a value CI cannot give).
for rb in "$dir"/*.yaml; do
	rbx plan "$rb" --node ci-node --lab > /dev/null
done

# Every scenario, in parallel; JUnit for the CI's test view; coverage gaps fail.
rbx test "$dir" --junit rbx-test.xml --coverage
