# t0110-lab-confinement: the whole catalogue runs in the lab without touching the
# machine: under strace, every file write, rename, unlink and mkdir lands in the
# state dir, every program executed is /bin/sh, rbx itself or a lab symlink, and
# no socket connects anywhere.
. "$TOP/tests/integration/lib.sh"

if ! command -v strace >/dev/null 2>&1; then
	not_ok "strace is needed to prove confinement (scripts/deps.sh installs it)"
	exit 0
fi
real_rbx=$(readlink -f "$RBX")
# This build's share of the runbooks (all of them, unless .ci/run splits the sweep).
ls "$TOP"/runbooks/*.yaml | share_pick > books.txt
# The whole catalogue, every scenario, as `rbx test` runs it: each in a state dir below
# this test's, one trace file per process.
# shellcheck disable=SC2046 # one word a runbook: the paths are the tree's own, no spaces
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -ff -o "$WORK/trace" \
	-e trace=openat,open,creat,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,symlink,symlinkat,connect,execve \
	"$RBX" test $(cat books.txt) -j 4 --keep "$RBX_STATE_DIR/keep" > test.out 2>&1 </dev/null
rc=$?
check "the catalogue's scenarios pass under strace (exit $rc)" "[ $rc -eq 0 ] || { tail -n 20 test.out; false; }"
want=$(for b in $(cat books.txt); do ls "$TOP/runbooks/tests/$(basename "$b")" 2>/dev/null; done | xargs cat 2>/dev/null | grep -c '^  - name:')
check "(every scenario of $(wc -l < books.txt) runbooks ran: $(grep -c '^ok' test.out) of $want)" "[ \$(grep -c '^ok' test.out) -eq $want ] && [ $want -ge 40 ]"
cat "$WORK"/trace.* > all.trace

check "every scenario runs entirely inside the lab" "python3 - all.trace '$RBX_STATE_DIR' '$real_rbx' '$RBX' <<'PY'
import os, re, sys
trace, state, rbx, rbx_link = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ok_read_dev = ('/dev/null', '/dev/tty', '/dev/urandom')
bad = []
for line in open(trace):
    m = re.search(r'(openat|open|creat|unlink|unlinkat|rename|renameat2?|mkdir|mkdirat|rmdir|symlink|symlinkat|execve|connect)\((.*)', line)
    if not m or 'resumed>' in line:
        continue
    call, args = m.group(1), m.group(2)
    paths = re.findall(r'\"([^\"]*)\"', args)
    if call == 'connect':
        # AF_UNIX (the name service cache) stays on the machine; no IP socket may be opened.
        if 'AF_INET' in args:
            bad.append(line)
        continue
    if call == 'execve':
        p = paths[0] if paths else ''
        # /bin/sh by its real name: the lab's confined shell (rbx) execs it after Landlock.
        # /proc/self/exe: rbx test starting each scenario's rbx run (itself).
        if not (p in ('/bin/sh', os.path.realpath('/bin/sh'), rbx, rbx_link, '/proc/self/exe') or p.startswith(state)):
            bad.append(line)
        continue
    if call in ('openat', 'open') and not re.search(r'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC', args):
        continue
    if call == 'symlink' or call == 'symlinkat':
        paths = paths[-1:]
    for p in paths:
        if p.startswith('/') and not p.startswith(state) and p not in ok_read_dev:
            bad.append(line)
        if not p.startswith('/') and p and not p.startswith('.'):
            pass  # relative to the lab scratch dir (the step's cwd, inside the state dir)
if bad:
    print(''.join(bad[:10]))
    sys.exit(1)
PY"

