# t0560-paths: where rbx reads and writes. A runbook planted in a directory others
# can write is never picked up; the state dir is the user's own or refused; files
# are written under names no one can guess; removal never follows a link.
. "$TOP/tests/integration/lib.sh"

# 1. ./runbooks in a world-writable cwd (a shared /tmp, say) is not searched.
mkdir -p shared/runbooks && chmod 1777 shared
sed 's/title: .*/title: PLANTED/' "$TOP/runbooks/gpu-fault.yaml" > shared/runbooks/gpu-fault.yaml
( cd shared && "$RBX" show gpu-fault > ../show.out 2>&1 )
check "a planted ./runbooks/gpu-fault.yaml in a world-writable cwd is ignored" "! grep -q PLANTED show.out && grep -q 'GPU fault' show.out"
mkdir -p mine/runbooks && chmod 755 mine mine/runbooks
cp shared/runbooks/gpu-fault.yaml mine/runbooks/
( cd mine && "$RBX" show gpu-fault > ../show2.out 2>&1 )
check "./runbooks of the user's own, closed directory is still searched first" "grep -q PLANTED show2.out"

# 2. The state dir: never /tmp for want of HOME; never someone else's or open to all.
if command -v setpriv >/dev/null; then
	rm -rf /tmp/.local/state/rbx.t0560
	env -u HOME -u XDG_STATE_HOME -u RBX_STATE_DIR setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$RBX" lab reset n1 > nohome.out 2>&1
	check "with no HOME, the state dir is the password file's home, not /tmp ($(head -c 200 nohome.out))" "! grep -q '/tmp/' nohome.out && grep -q nonexistent nohome.out"
else
	ok "setpriv missing: no-HOME case not run"
fi
mkdir -p theirs && chown 65534 theirs

RBX_STATE_DIR="$WORK/theirs" "$RBX" lab reset n1 > own.out 2>&1; rc=$?
check "with a clear error ($rc)" "[ $rc -ne 0 ] && grep -q 'belongs to uid 65534' own.out"
mkdir -p open && chmod 777 open
RBX_STATE_DIR="$WORK/open" "$RBX" run gpu-fault --node n1 --lab > open.out 2>&1; rc=$?
check "a state dir writable by others is refused ($rc)" "[ $rc -ne 0 ] && grep -q 'writable by others' open.out && [ ! -d open/runs ]"

# 3. Atomic writes: a new file with an unguessable name (O_EXCL), never a fixed one.
strace -f -e trace=openat -o st.txt "$RBX" lab inject n2 xid=48 gpu=3 >/dev/null 2>&1
check "the lab's state is written through a fresh O_EXCL temp file" "grep -E '\\.tmp\\.[A-Za-z0-9]{6}\".*O_EXCL' st.txt >/dev/null && ! grep -E '\\.tmp\\.[0-9]+\"' st.txt"

# 4. Removal never follows a link out of rbx's own tree.
mkdir -p outside && echo keep > outside/precious
mkdir -p "$RBX_STATE_DIR/lab/nodes/n2/scratch"
ln -s "$WORK/outside" "$RBX_STATE_DIR/lab/nodes/n2/scratch/link"
mkdir -p "$RBX_STATE_DIR/lab/nodes/n2/scratch/sub" && ln -s "$WORK/outside" "$RBX_STATE_DIR/lab/nodes/n2/scratch/sub/l2"
"$RBX" lab reset n2 >/dev/null
check "a reset removed the links, not what they point to" "[ -f outside/precious ] && [ ! -e '$RBX_STATE_DIR/lab/nodes/n2/scratch/link' ]"
