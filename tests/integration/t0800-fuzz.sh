# t0800-fuzz: the libFuzzer harnesses (tests/fuzz/: runbook, inventory, template,
# hostlist, journal and resume, Alertmanager payloads, rbx serve's requests, and the
# Slurm, Kubernetes and etcd answers) build with Debian's clang, replay every input kept
# from a crash they found, and fuzz a few seconds each without a crash. The long
# campaign's figures are in docs/reliability.md (make fuzz FUZZ_SECONDS=600).
. "$TOP/tests/integration/lib.sh"

if [ "${SANITIZE:-}" = 1 ]; then
	ok "(the fuzzers are a sanitizer build of their own: they run in the release pass)"
	exit 0
fi
if ! command -v clang >/dev/null; then
	not_ok "clang is needed for the fuzzers (scripts/deps.sh check installs it)"
	exit 0
fi
make -s -C "$TOP" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-4}" FUZZ_JOBS=2 > fuzz.out 2>&1
rc=$?
check "every harness builds, replays its kept crashes and fuzzes clean (exit $rc)" "[ $rc -eq 0 ] || { cat fuzz.out; false; }"
for h in "$TOP"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c | sed 's/^fuzz_//')
	[ "$name" = common ] && continue
	check "fuzz_$name ran and found nothing" "grep -q '^PASS fuzz_$name: [0-9]* runs' fuzz.out"
done
check "the crashes found are kept as regression inputs" "[ -n \"\$(ls '$TOP/tests/fuzz/regress/inventory')\" ] && [ -n \"\$(ls '$TOP/tests/fuzz/regress/hostlist')\" ]"
