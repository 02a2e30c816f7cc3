# t0820-static: static analysis. clang's scan-build over the whole build reports nothing
# (each finding fixed, or the code made plain to it with a comment that says why), and
# the shellcheck tool finds no warning in any shell script of the tree: the tests (which dash
# runs), the scripts, the benches, CI and the examples.
. "$TOP/tests/integration/lib.sh"

# Every shell script: *.sh and anything whose first line names sh or bash.
git -C "$TOP" ls-files > files.txt 2>/dev/null || (cd "$TOP" && find . -type f -not -path './build/*' -not -path './.git/*' | sed 's|^\./||') > files.txt
: > scripts.txt
while read -r f; do
	case "$f" in
	*.sh | .ci/run) echo "$f" >> scripts.txt ;;
	*) head -n 1 "$TOP/$f" 2>/dev/null | grep -q '^#!.*\(/sh\|bash\)' && echo "$f" >> scripts.txt ;;
	esac
done < files.txt
check "(there are shell scripts to check: $(wc -l < scripts.txt))" "[ \$(wc -l < scripts.txt) -ge 60 ]"
if command -v shellcheck >/dev/null; then
	: > sc.out
	while read -r f; do
		# The tests have no shebang: tests/run_one.sh runs them with sh, dash on Debian.
		case "$f" in tests/integration/*) opt="-s dash" ;; *) opt="" ;; esac
		# shellcheck disable=SC2086
		(cd "$TOP" && shellcheck -x -S warning $opt "$f") >> sc.out 2>&1
	done < scripts.txt
	check "shellcheck: no warning in any of them" "[ ! -s sc.out ] || { head -n 40 sc.out; false; }"
else
	not_ok "shellcheck is needed (scripts/deps.sh check installs it)"
fi

if [ "${SANITIZE:-}" = 1 ]; then
	ok "(scan-build runs in the release pass)"
	exit 0
fi
if command -v scan-build >/dev/null && command -v clang >/dev/null; then
	rm -rf "$TOP/build/scan"
	(cd "$TOP" && scan-build -o "$WORK/scan" --status-bugs make -s -j2 BUILD=build/scan CC=clang build/scan/rbx) > scan.out 2>&1
	rc=$?
	check "scan-build: no bug found in the whole build (exit $rc)" "[ $rc -eq 0 ] && grep -q 'No bugs found' scan.out || { grep -A3 'warning:' scan.out | head -n 40; tail -n 5 scan.out; false; }"
	rm -rf "$TOP/build/scan"
else
	not_ok "clang-tools (scan-build) is needed (scripts/deps.sh check installs it)"
fi
