# t0415-journal-faults: the write-ahead rule under a full or failing disk. Every
# write and every fdatasync of the journal fails in turn, and every open, rename and
# mkdir in the state dir (tests/fault/faultinj.so): no side effect without its intent
# on disk, a whole journal, a clear stop with a documented exit code, and a run that
# resumes, or ended cleanly (nothing changed; or rolled back, the node kept out).
. "$TOP/tests/integration/lib.sh"

so="$TOP/${BUILD:-build/release}/tests/faultinj.so"
if [ "${SANITIZE:-}" = 1 ]; then
	# ASan must come first in the process; an LD_PRELOAD library cannot. The release
	# build runs this test; the sanitizer build runs the kill points (t0410).
	ok "journal faults run in the release build only"
	exit 0
fi
check "the fault injector is built" "[ -f '$so' ]"
export FAULTINJ="$so" CRASH_MODES="write short sync open rename mkdir"
harness() {
	python3 "$TOP/tests/integration/crash_harness.py" "$@" >harness.out 2>&1
	rc=$?
	cat harness.out
	return $rc
}
check "every journal write and sync of gpu-fault (reset fix) failing in turn: nothing runs unannounced, the run resumes to the same end" \
	"harness 'gpu-fault reset | gpu-fault | xid=48 gpu=3 | '"
check "the same for gpu-fault rolled back" \
	"harness 'gpu-fault rollback | gpu-fault | xid=48 gpu=3 dcgm=fail | '"
check "the same for driver-cuda-upgrade (reboot included)" \
	"harness 'driver-cuda-upgrade | driver-cuda-upgrade | - | --yes'"
