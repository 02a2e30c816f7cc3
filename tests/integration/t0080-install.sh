# t0080-install: `make install PREFIX=...` puts the binary, the runbooks and the man
# page in place, and the installed rbx finds its runbooks from anywhere.
. "$TOP/tests/integration/lib.sh"

unset RBX_RUNBOOKS
check "make install into a private prefix" "make -s -C '$TOP' install SANITIZE='${SANITIZE:-}' PREFIX='$WORK/prefix' >/dev/null"
check "the binary is installed" "[ -x '$WORK/prefix/bin/rbx' ]"
check "the man page is installed" "[ -f '$WORK/prefix/share/man/man1/rbx.1' ]"
check "the runbooks are installed" "[ -f '$WORK/prefix/share/rbx/runbooks/gpu-fault.yaml' ]"
mkdir -p elsewhere
cd elsewhere || exit 1
check "the installed rbx finds gpu-fault by name from another directory" "'$WORK/prefix/bin/rbx' plan gpu-fault --node n42 >/dev/null"
check "and lists it" "'$WORK/prefix/bin/rbx' list | grep -q gpu-fault"
check "make uninstall removes what install put there" "make -s -C '$TOP' uninstall SANITIZE='${SANITIZE:-}' PREFIX='$WORK/prefix' >/dev/null && [ ! -e '$WORK/prefix/bin/rbx' ] && [ ! -e '$WORK/prefix/share/man/man1/rbx.1' ] && [ ! -e '$WORK/prefix/share/rbx' ]"
