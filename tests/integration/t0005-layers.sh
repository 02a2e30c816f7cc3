# t0005-layers: the house rules of src/ hold on the built objects: each file uses only
# its layer and those below, no loops between files, files under 700 lines, only cli/
# prints or exits, only lab/ names the lab; and the release binary carries no test hooks.
. "$TOP/tests/integration/lib.sh"

BUILD_DIR="$TOP/${BUILD:-build/release}"
OUT=$(python3 "$TOP/tests/tools/layers.py" "$BUILD_DIR" 2>&1)
LRC=$?
echo "$OUT" | sed 's/^/# /'
check "layers.py finds no problem" "[ $LRC -eq 0 ] && contains \"\$OUT\" 'layers: 0 problems'"

# The checker itself must see a break: a copy of the tree where core/ calls up into app/.
T=$(mktemp -d)
mkdir -p "$T/tests/tools" "$T/src/core" "$T/src/app" "$T/build/core" "$T/build/app"
cp "$TOP/tests/tools/layers.py" "$T/tests/tools/"
printf '/* a.c - up.\n * test. */\nint app_fn(void);\nint core_fn(void);\nint core_fn(void) { return app_fn(); }\n' >"$T/src/core/a.c"
printf '/* b.c - down.\n * test. */\nint core_fn(void);\nint app_fn(void);\nint app_fn(void) { return core_fn(); }\n' >"$T/src/app/b.c"
cc -c -o "$T/build/core/a.o" "$T/src/core/a.c" && cc -c -o "$T/build/app/b.o" "$T/src/app/b.c"
# shellcheck disable=SC2034 # read by the checks below, as they are evaluated
BAD=$(python3 "$T/tests/tools/layers.py" "$T/build" 2>&1)
check "an upward call is caught" "contains \"\$BAD\" 'uses app_fn from src/app/b.c, which is not below core/'"
check "and the loop it makes" "contains \"\$BAD\" 'loop between files'"
rm -rf "$T"

check "the release binary has no crash hook" "! grep -q RBX_TEST_CRASH_AT \"\$BUILD_DIR/rbx\""
check "nor the lab's exec log" "! grep -q RBX_LAB_EXEC_LOG \"\$BUILD_DIR/rbx\""
check "the test build has both" "grep -q RBX_TEST_CRASH_AT \"\$BUILD_DIR/rbx-test\" && grep -q RBX_LAB_EXEC_LOG \"\$BUILD_DIR/rbx-test\""
