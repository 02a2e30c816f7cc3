#!/usr/bin/env python3
# crash_harness.py - kills a lab run of rbx with SIGKILL at every journal point in
# turn (before, during and after each record), resumes it, and proves the outcome.
"""
For one scenario (runbook, faults, args) it first makes an uninterrupted run,
then for every journal record k of that run and every way to die there
(after:k  - record k is on disk, its side effect not yet begun;
 before:k - record k never written, though what it reports happened;
 torn:k   - half of record k written, as a power loss leaves it)
it runs again with RBX_TEST_CRASH_AT set, then `rbx resume` until the run
ends, and checks against the uninterrupted run:
  1. the same end state, exit code and node state (the lab's state file);
  2. no step that is not idempotent ran twice: the lab's exec log (written as
     each command is spawned, independent of the journal) holds each such
     command exactly as often as in the uninterrupted run;
  3. the node was never back in service with an unverified mutation: in the
     exec log, every uncordon comes after the verify commands, and those after
     the last mutating command.
The I/O fault modes (write:k - the k-th write of the journal fails with ENOSPC, and
so does every one after it; short:k - it writes half a line first; sync:k - the
k-th fdatasync fails with EIO) use tests/fault/faultinj.so through LD_PRELOAD.
There rbx is not killed: it must stop by itself (exit 130, naming the journal),
with the journal ending on a whole record, and without one command in the exec
log whose step_start is not in the journal. Then it is resumed like a kill.
A step left in doubt is answered truthfully from the exec log: --assume-done
if its command ran, --rerun if it never began.
Prints one line per scenario; exits 1 on the first broken proof.
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

# The crash hooks live only in the test build (rbx-test).
RBX = os.environ.get("RBX_HOOKS") or os.environ["RBX"]
FAULTINJ = os.environ.get("FAULTINJ", "")
NODE = "c1"
# Times, and what counts reads: a resume may repeat a read-only step (an all-reduce's
# traffic on the links, a wait on the node's clock); changes are checked once-only below.
VOLATILE = {"t", "time", "ts", "at", "history", "since", "boot_time", "nvlink_traffic",
            "clock_skew_ms"}


def rbx(args, env, timeout=120):
    return subprocess.run([RBX] + args, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)


def fresh(faults):
    d = tempfile.mkdtemp(prefix="rbx-crash.")
    env = dict(os.environ)
    env.pop("RBX_TEST_CRASH_AT", None)
    env["RBX_STATE_DIR"] = d + "/state"
    env["RBX_LAB_EXEC_LOG"] = d + "/exec.log"
    if faults:
        p = rbx(["lab", "inject", NODE] + faults, env)
        assert p.returncode == 0, p.stderr
    return d, env


def journal(env):
    runs = env["RBX_STATE_DIR"] + "/runs"
    files = os.listdir(runs) if os.path.isdir(runs) else []
    if not files:
        return None, []
    assert len(files) == 1, files
    recs = []
    with open(runs + "/" + files[0]) as f:
        for line in f:
            if line.endswith("\n"):
                recs.append(json.loads(line))
    return files[0][:-len(".jsonl")], recs


def exec_log(env):
    try:
        with open(env["RBX_LAB_EXEC_LOG"]) as f:
            return [json.loads(l) for l in f]
    except FileNotFoundError:
        return []


def initial_state(faults, run_id):
    """The node as the scenario starts it, scrubbed as node_state is."""
    d, env = fresh(faults)
    st = node_state(env, run_id)
    shutil.rmtree(d)
    return st


def scrub(v, run_id):
    if isinstance(v, dict):
        return {k: scrub(x, run_id) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [scrub(x, run_id) for x in v]
    if isinstance(v, str):
        return v.replace(run_id, "RUN")
    return v


def node_state(env, run_id):
    p = rbx(["lab", "show", NODE, "--format", "json"], env)
    assert p.returncode == 0, p.stderr
    return scrub(json.loads(p.stdout), run_id)


def end_of(recs):
    ends = [r for r in recs if r["type"] == "run_end"]
    return ends[-1]["state"] if ends else None


def finished(recs):
    """Ended for good: an INTERRUPTED run (a lost lease, a node the scheduler could not
    take back) ends its process, not the run: `rbx resume` continues it."""
    return end_of(recs) not in (None, "INTERRUPTED")


def step_key(r):
    return (r["phase"], r["index"], r.get("of", 0))


def once_only_cmds(recs):
    """Each step that is not idempotent (it must never run twice) -> its command in this
    run (commands differ between runs where they hold a capture, such as a time)."""
    out = {}
    for r in recs:
        if r["type"] == "step_start" and not r.get("idempotent"):
            out[step_key(r)] = r.get("cmd") or ("reboot" if r.get("action") == "reboot" else None)
    return {k: v for k, v in out.items() if v}


def verify_cmds(recs):
    return {r["cmd"] for r in recs if r["type"] == "step_start" and r["phase"] == "verify"}


def mutating_cmds(recs):
    return {r["cmd"] for r in recs if r["type"] == "step_start" and r.get("mutates")
            and r.get("cmd")} | {"reboot"}


def count(log, cmd):
    return sum(1 for e in log if e.get("exec") == cmd)


def in_doubt_ran(recs, log):
    """Whether the in-doubt step's command ran: the exec log has it more often than
    the journal has ended runs of it."""
    starts = [r for r in recs if r["type"] == "step_start"]
    last = starts[-1]
    ended = 0
    for i, r in enumerate(recs):
        if r["type"] != "step_start" or r.get("cmd") != last.get("cmd"):
            continue
        for later in recs[i + 1:]:
            if later["type"] == "step_end" and later["index"] == r["index"] and \
                    later["phase"] == r["phase"]:
                if later["status"] != "interrupted":
                    ended += 1
                break
            if later["type"] == "step_start":
                break
    cmd = last.get("cmd") or ("reboot" if last.get("action") == "reboot" else None)
    return cmd is not None and count(log, cmd) > ended


def never_unverified_in_service(log, verify, mutating):
    last_mut = -1
    for i, e in enumerate(log):
        if e.get("exec") in mutating:
            last_mut = i
        if e.get("sched") == "uncordon" and last_mut >= 0:
            seen = {x.get("exec") for x in log[last_mut + 1:i]}
            missing = verify - seen
            if missing:
                return "uncordon at exec-log line %d with %s not run since the last mutation" % (
                    i + 1, sorted(missing))
    return None


def fail(msg):
    print("not ok - " + msg, flush=True)
    os._exit(1)  # from a worker thread too


IO_MODES = {"write", "short", "sync", "open", "rename", "mkdir"}
# Faults on the state dir's files (not only the journal): swept over every call made.
FS_MODES = {"open", "rename", "mkdir"}


def intent_first(name, where, env, err, need_journal_word=True):
    """After an I/O fault: a whole journal, and nothing ran that it does not announce."""
    runs = env["RBX_STATE_DIR"] + "/runs"
    path = runs + "/" + os.listdir(runs)[0]
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        fail("%s %s: the journal ends in a torn line after a write error" % (name, where))
    recs = [json.loads(l) for l in data.decode().splitlines()]
    announced = {}
    for r in recs:
        if r["type"] == "step_start" and r.get("cmd"):
            announced[r["cmd"]] = announced.get(r["cmd"], 0) + 1
    ran = {}
    for e in exec_log(env):
        if "exec" in e and e["exec"] != "reboot":
            ran[e["exec"]] = ran.get(e["exec"], 0) + 1
    for cmd, n in ran.items():
        if n > announced.get(cmd, 0):
            fail("%s %s: '%s' ran %d times, its intent is journaled %d times" % (
                name, where, cmd[:80], n, announced.get(cmd, 0)))
    if need_journal_word and "journal" not in err:
        fail("%s %s: the error does not name the journal: %s" % (name, where, err[-300:]))


def kill_point(ctx, k, mode):
    name, runbook, faults, args, want_exit, want_end, want_state, once, want_counts = ctx
    where = "%s:%d" % (mode, k)
    d, env = fresh(faults)
    if mode in IO_MODES:
        crash_env = dict(env, RBX_FAULT=where, LD_PRELOAD=FAULTINJ)
    else:
        crash_env = dict(env, RBX_TEST_CRASH_AT=where)
    p = subprocess.run([RBX, "run", runbook, "--node", NODE, "--lab", "--format", "json"]
                       + args, env=crash_env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    if mode in FS_MODES:
        # A file of the state dir could not be made: a clear stop with a documented code,
        # and nothing ran that the journal does not announce (nothing at all without one).
        if p.returncode not in (1, 3, 4, 130, want_exit):
            fail("%s %s: rbx exited %d after a state-dir fault: %s" % (
                name, where, p.returncode, p.stderr[-300:]))
        if p.returncode != want_exit and not p.stderr.strip() and '"error"' not in p.stdout:
            fail("%s %s: rbx exited %d and said nothing" % (name, where, p.returncode))
        if journal(env)[0] is None:
            ran = [e for e in exec_log(env) if "exec" in e]
            if ran:
                fail("%s %s: %d commands ran with no journal" % (name, where, len(ran)))
        elif p.returncode != want_exit:
            intent_first(name, where, env, p.stderr, need_journal_word=False)
        run_id, recs = journal(env)
        if run_id is not None and finished(recs) and end_of(recs) != want_end:
            # It ended otherwise, by itself and cleanly: stopped before any change, or
            # failed and rolled back with the node kept out. Each as its exit code says.
            end = end_of(recs)
            if end == "ABORTED":
                # Nothing changed but, at most, a cordon its undo could not lift: then the
                # node stays out under this run's name, and the run says so.
                now, before = node_state(env, run_id), initial_state(faults, run_id)
                if {k: v for k, v in now.items() if k != "sched"} != \
                        {k: v for k, v in before.items() if k != "sched"}:
                    fail("%s %s: ABORTED (nothing changed), yet the node changed" % (name, where))
                last = [r for r in recs if r["type"] == "run_end"][-1]
                if now["sched"]["cordoned"] and (last["node_in_service"]
                                                 or "rbx:" not in now["sched"]["reason"]):
                    fail("%s %s: ABORTED with the node cordoned, not said" % (name, where))
            elif end == "FAILED_UNSAFE":
                # The lab keeps the node's own state in the state dir: a rollback that needs
                # it (a restart) fails with it, and the node is left out for a human.
                last = [r for r in recs if r["type"] == "run_end"][-1]
                if last["node_in_service"] or not node_state(env, run_id)["sched"]["cordoned"]:
                    fail("%s %s: FAILED_UNSAFE, yet the node is back in service" % (name, where))
            elif end != "FAILED":
                fail("%s %s: ended %s after a state-dir fault" % (name, where, end))
            p2 = rbx(["log", run_id], env)
            if p2.returncode != 0:
                fail("%s %s: rbx log cannot explain the run: %s" % (name, where, p2.stderr))
            shutil.rmtree(d)
            return "automatic"
    elif mode in IO_MODES:
        if p.returncode not in (130, want_exit):
            fail("%s %s: rbx exited %d after a journal fault: %s" % (
                name, where, p.returncode, p.stderr[-300:]))
        if p.returncode == 130 or "journal" in p.stderr:
            intent_first(name, where, env, p.stderr)
    elif p.returncode != -9:
        fail("%s %s: rbx was not killed (exit %d)" % (name, where, p.returncode))
    run_id, recs = journal(env)
    if run_id is None:
        # No journal at all: nothing began. A run now, on a disk that works, ends as the
        # uninterrupted one did (the proof below).
        p = rbx(["run", runbook, "--node", NODE, "--lab", "--format", "json"] + args, env)
        run_id, recs = journal(env)
    elif not recs:
        # Killed before the first record: nothing began, so nothing is resumed.
        p = rbx(["resume", run_id], env)
        if p.returncode != 2 or "never began" not in p.stderr:
            fail("%s %s: resume of an empty journal: exit %d %s" % (
                name, where, p.returncode, p.stderr))
        os.unlink("%s/runs/%s.jsonl" % (env["RBX_STATE_DIR"], run_id))
        p = rbx(["run", runbook, "--node", NODE, "--lab", "--format", "json"] + args, env)
        run_id, recs = journal(env)
    extra = []
    decision = "automatic"
    if finished(recs):
        # Killed after its last record: the run had ended; a resume says so.
        p = rbx(["resume", run_id], env)
        if p.returncode != 2 or "already ended" not in p.stderr:
            fail("%s %s: resume of an ended run: exit %d %s" % (name, where, p.returncode,
                                                                p.stderr))
        p.returncode = [r for r in recs if r["type"] == "run_end"][-1]["exit"]
    for _ in range(0 if finished(recs) else 3):
        p = rbx(["resume", run_id, "--format", "json"] + extra
                + (["--yes"] if "--yes" in args else []), env)
        if p.returncode == 2 and "in the journal" in p.stderr and not extra:
            _, recs = journal(env)
            ran = in_doubt_ran(recs, exec_log(env))
            extra = ["--assume-done"] if ran else ["--rerun"]
            decision = "assume-done" if ran else "rerun"
            continue
        break
    _, recs = journal(env)
    log = exec_log(env)
    if p.returncode != want_exit or end_of(recs) != want_end:
        fail("%s %s: resumed run ended %s (exit %d), uninterrupted %s (exit %d): %s" % (
            name, where, end_of(recs), p.returncode, want_end, want_exit,
            p.stderr.strip()[-400:]))
    got_state = node_state(env, run_id)
    if mode in FS_MODES:
        # The disk that failed may keep the run from writing the end into the cordon's
        # reason ("rbx:RUN runbook FAILED"): the node must still be held under the run's name.
        got_state, want_state = dict(got_state), dict(want_state)
        for st in (got_state, want_state):
            st["sched"] = dict(st["sched"], reason=st["sched"]["reason"].split(" ")[0])
    if got_state != want_state:
        diff = [k2 for k2 in want_state if want_state[k2] != got_state.get(k2)]
        fail("%s %s: node state differs in %s" % (name, where, diff))
    mine = once_only_cmds(recs)
    for key, want in want_counts.items():
        got = count(log, mine.get(key, once[key]))
        if got != want:
            fail("%s %s: step %s '%s' ran %d times, %d in the uninterrupted run" % (
                name, where, key, mine.get(key), got, want))
    bad = never_unverified_in_service(log, verify_cmds(recs), mutating_cmds(recs))
    if bad:
        fail("%s %s: %s" % (name, where, bad))
    shutil.rmtree(d)
    return decision


def scenario(name, runbook, faults, args):
    d, env = fresh(faults)
    p = rbx(["run", runbook, "--node", NODE, "--lab", "--format", "json"] + args, env)
    run_id, clean = journal(env)
    want_exit, want_end = p.returncode, end_of(clean)
    want_state = node_state(env, run_id)
    clean_log = exec_log(env)
    once = once_only_cmds(clean)
    verify, mutating = verify_cmds(clean), mutating_cmds(clean)
    want_counts = {k: count(clean_log, c) for k, c in once.items()}
    bad = never_unverified_in_service(clean_log, verify, mutating)
    if bad:
        fail("%s: the uninterrupted run itself: %s" % (name, bad))
    shutil.rmtree(d)
    decisions = {"assume-done": 0, "rerun": 0, "automatic": 0}
    ctx = (name, runbook, faults, args, want_exit, want_end, want_state, once, want_counts)
    modes = os.environ.get("CRASH_MODES", "after before torn").split()
    points = [(k, mode) for k in range(1, len(clean) + 1) for mode in modes
              if mode not in FS_MODES]
    if FS_MODES & set(modes):
        # Every open, rename and mkdir the uninterrupted run made in the state dir, in turn.
        d2, env2 = fresh(faults)
        counts = d2 + "/counts"
        rbx(["run", runbook, "--node", NODE, "--lab", "--format", "json"] + args,
            dict(env2, RBX_FAULT="count", RBX_FAULT_COUNTS=counts, LD_PRELOAD=FAULTINJ))
        with open(counts) as f:
            total = dict(kv.split("=") for kv in f.read().split())
        shutil.rmtree(d2)
        points += [(k, mode) for mode in modes if mode in FS_MODES
                   for k in range(1, int(total[mode]) + 1)]
    # SHARE=K/N (.ci/run): this build takes every Nth point from the Kth; the other
    # build takes the rest, so each point is killed once per CI run, not twice.
    k, n = (int(x) for x in os.environ.get("SHARE", "1/1").split("/"))
    points = [p for i, p in enumerate(points) if i % n == k - 1]
    # Each kill point has its own state dir, so they run side by side.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for decision in pool.map(lambda pt: kill_point(ctx, *pt), points):
            decisions[decision] += 1
    points = len(points)
    print("ok - %s: %d journal records, %d kill points, each resumed to %s (exit %d); "
          "in doubt: %d assumed done, %d re-run, %d needed no decision" % (
              name, len(clean), points, want_end, want_exit, decisions["assume-done"],
              decisions["rerun"], decisions["automatic"]))
    return points


def main():
    total = 0
    for line in sys.argv[1:]:
        name, runbook, faults, args = [x.strip() for x in line.split("|")]
        total += scenario(name, runbook, faults.split() if faults != "-" else [],
                          args.split())
    print("covered %d kill points" % total)


if __name__ == "__main__":
    main()
