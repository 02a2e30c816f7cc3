# t0410-crash: SIGKILL at every journal point of three lab runs (gpu-fault fixed,
# gpu-fault rolled back, driver-cuda-upgrade), then rbx resume; crash_harness.py proves each.
. "$TOP/tests/integration/lib.sh"

# Under ASan alone every point is killed before and after its record; the torn
# variant (the same points, half a line) runs in the release build, to keep it short.
# In CI (SHARE set) the two builds split every point of every mode between them.
if [ "${SANITIZE:-}" = 1 ] && [ -z "${SHARE:-}" ]; then export CRASH_MODES="after before"; fi

harness() {
	python3 "$TOP/tests/integration/crash_harness.py" "$@" >harness.out 2>&1
	rc=$?
	cat harness.out
	return $rc
}
check "every kill point of gpu-fault (reset fix) resumes to the same end, nothing run twice, never unverified in service" \
	"harness 'gpu-fault reset | gpu-fault | xid=48 gpu=3 | '"
check "every kill point of gpu-fault (a failing fix, rolled back)" \
	"harness 'gpu-fault rollback | gpu-fault | xid=48 gpu=3 dcgm=fail | '"
check "every kill point of driver-cuda-upgrade (reboot included)" \
	"harness 'driver-cuda-upgrade | driver-cuda-upgrade | - | --yes'"
