#!/usr/bin/env python3
# conformance.py - every runbook step that reads a tool's output, run against the tool's
# real output (tests/fixtures/real) and against the lab's output in the same situation.
#
# For each step with an expect or capture and each real capture of a tool the step runs:
#   real: the step's shell text runs with that tool replaced by a stub printing the capture
#         (other tools: the text tools only; nothing real beyond them ever runs);
#   lab:  the same text runs on a lab node with the capture's situation injected
#         (`rbx lab exec`, the very environment of a lab step).
# Both outputs are read by rbx's own reader (tests/tools/rbx_rx.c): the step's verdict
# and each capture. They must agree: same verdict, same captures found or not found.
# An entry's "captures" gives a step the values it needs (RBX_C_* captures, or RBX_P_*
# parameters other than the index's, to read the same capture against another floor).
# An index entry may also say how a correct runbook reads the real capture ("reads"):
# a runbook that misreads real output fails here even if the lab agrees with it
# ("*": any value but none). An excerpt says which steps it can stand for ("only_steps":
# a regex over the step's command). A capture the tool printed on stderr says so
# ("stream": "stderr"; fuser -v prints everything there).
#
# Usage: conformance.py RBX RBX_RX INDEX.json [--report FILE] [--markdown FILE]
#        (exit 1 on a disagreement; --markdown writes docs/runbooks/real-output.md)
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TEXT_TOOLS = ["grep", "sed", "awk", "cut", "head", "tail", "sort", "uniq", "tr", "wc", "cat",
              "printf", "echo", "test", "[", "date", "true", "false", "seq", "basename",
              "dirname", "tee", "expr", "xargs", "paste"]


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def steps_of(plan):
    """(phase, index, undo?, step) for every step and undo of a plan."""
    for phase, lst in plan["phases"].items():
        for s in lst:
            yield phase, s["index"], False, s
            if "undo" in s:
                yield phase, s["index"], True, s["undo"]


def uses_tool(cmd, tool):
    return re.search(r"(^|[\s|;&(`$])" + re.escape(tool) + r"(\s|$|;|\|)", cmd) is not None


STUB = """#!/bin/sh
# A stand-in for {tool}: prints a real capture when called as the capture was taken.
args="$*"
if printf '%s\n' "$args" | grep -Eq -- {args_re}; then
    cat {file}{redirect}
    exit {status}
fi
echo "{tool} $args" >> {miss}
echo "no real capture of '{tool} $args'" >&2
exit 127
"""


def quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def run_real(fixture, fixdir, cmd, env, work):
    """The step's text with the tool stubbed by the real capture; None when not covered."""
    bindir = os.path.join(work, "bin")
    shutil.rmtree(bindir, ignore_errors=True)
    os.makedirs(bindir)
    for t in TEXT_TOOLS:
        real = shutil.which(t)
        if real:
            os.symlink(real, os.path.join(bindir, t))
    miss = os.path.join(work, "miss")
    if os.path.exists(miss):
        os.unlink(miss)
    tools = [fixture["tool"]] + fixture.get("also_for", [])
    for tool in tools:
        path = os.path.join(bindir, tool)
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "w") as f:
            f.write(STUB.format(tool=tool, args_re=quote(fixture["args"]),
                                file=quote(os.path.join(fixdir, fixture["file"])),
                                status=fixture.get("status", 0), miss=quote(miss),
                                redirect=" >&2" if fixture.get("stream") == "stderr" else ""))
        os.chmod(path, 0o755)
    e = {"PATH": bindir, "LC_ALL": "C", "HOME": work}
    e.update(env)
    p = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, env=e,
                       cwd=work, timeout=30)
    # A stub that found no capture for its call, or a tool the step needs that no capture
    # stands for: this capture does not cover the step.
    if os.path.exists(miss) or (p.returncode == 127 and ": not found" in p.stderr):
        return None
    return p.returncode, p.stdout


def run_lab(rbx, state, faults, cmd, env):
    e = dict(os.environ, RBX_STATE_DIR=state)
    sh([rbx, "lab", "reset", "n42"], env=e)
    if faults:
        r = sh([rbx, "lab", "inject", "n42"] + faults.split(), env=e)
        if r.returncode:
            raise SystemExit("lab inject %s: %s" % (faults, r.stderr))
    args = [rbx, "lab", "exec", "n42", cmd, "--format", "json"]
    for k, v in env.items():
        args += ["--param", "%s=%s" % (k, v)]
    r = sh(args, env=e)
    if not r.stdout.strip():
        raise SystemExit("lab exec failed: %s" % r.stderr)
    o = json.loads(r.stdout)
    return o["status"], o["stdout"]


def read(rbx_rx, runbook, phase, index, undo, status, out, env):
    args = [rbx_rx, runbook, phase, str(index)] + (["undo"] if undo else []) + [str(status)]
    r = subprocess.run(args, input=out, capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit("rbx-rx %s: %s" % (" ".join(args[1:]), r.stderr))
    return json.loads(r.stdout)


def reading(r):
    """A step's reading of one output, in words: its verdict and what it captured."""
    out = "ok" if r["ok"] else "fails"
    caps = ", ".join("%s=`%s`" % (k, v) for k, v in sorted(r["captures"].items()) if v)
    return out + ("; " + caps if caps else "")


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def evidence_page(index, names, checks, still_open):
    """docs/runbooks/real-output.md: for each runbook, its readings of real captures."""
    fx = {f["file"]: f for f in index["fixtures"]}
    rel = "../../tests/fixtures/real/"
    out = ["# Real output behind the catalogue's readings", "",
           "Generated by `tests/tools/conformance.py --markdown` (t0130 keeps it fresh) from "
           "`tests/fixtures/real/index.json`: %d captures of the real tools, each with its source. "
           "Each row is a runbook step that reads a tool's output, run on a real capture of that "
           "tool, read by rbx's own reader: what it concluded and captured. *Lab* is what the "
           "step read on a lab node put in the same situation (it must agree), or why the lab "
           "has no such situation." % len(index["fixtures"]), ""]
    for rb in names:
        rows = [c for c in checks if c["step"].split("/")[0] == rb]
        out += ["## %s" % rb, ""]
        if not rows:
            out += ["No step of it reads a tool of which a real capture is kept yet.", ""]
            continue
        out += ["| Step | Real capture | Version · hardware | Read as | Lab |",
                "|---|---|---|---|---|"]
        for c in rows:
            f = fx[c["fixture"]]
            src = f["source"]
            src = "<%s>" % src if src.startswith("http") and " " not in src else src
            lab = ("agrees (%s)" % (f["lab"] or "healthy node")) if "lab" in c else \
                cell(f.get("lab_gap", "no such situation"))
            out.append("| %s<br>%s | [%s](%s%s)<br>%s | %s · %s | %s | %s |" % (
                c["step"].split("/", 1)[1], cell(c["name"]), c["fixture"], rel, c["fixture"],
                cell(src), cell(f["version"]), cell(f["hardware"]), cell(reading(c["real"])), lab))
        out.append("")
    unused = [f for f in index["fixtures"] if f.get("unused_because")]
    out += ["## Captures no step reads", "",
            "Kept as evidence all the same; each says why no step reads it.", ""]
    for f in unused:
        out.append("- [%s](%s%s): %s" % (f["file"], rel, f["file"], cell(f["unused_because"])))
    out.append("")
    if still_open:
        out += ["## Known disagreements, not fixed yet", ""]
        out += ["- %s" % cell(o) for o in still_open]
        out.append("")
    return "\n".join(out)


def main():
    rbx, rbx_rx, index_path = sys.argv[1:4]
    report = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else None
    markdown = sys.argv[sys.argv.index("--markdown") + 1] if "--markdown" in sys.argv else None
    fixdir = os.path.dirname(os.path.abspath(index_path))
    index = json.load(open(index_path))
    fixtures = index["fixtures"]
    problems, checks, used = [], [], set()
    work = tempfile.mkdtemp(prefix="rbx-conf.")
    state = os.path.join(work, "state")
    base_env = dict(os.environ, RBX_STATE_DIR=state)
    try:
        rbdir = os.environ.get("RBX_RUNBOOKS") or index["runbooks"]
        names = sorted(f[:-5] for f in os.listdir(rbdir) if f.endswith(".yaml"))
        for rb in names:
            args = [rbx, "plan", rb, "--node", "n42", "--format", "json"]
            for k, v in index.get("params", {}).get(rb, {}).items():
                args += ["--param", "%s=%s" % (k, v)]
            r = sh(args, env=base_env)
            if r.returncode:
                problems.append("%s: no plan: %s" % (rb, r.stderr.strip()))
                continue
            plan = json.loads(r.stdout)
            for phase, idx, undo, s in steps_of(plan):
                ex = s.get("expect", {})
                # A step reads a tool's output by a regex, a capture, or a pipeline judged
                # by its exit status (nvbandwidth | awk ... END { exit bad }).
                if "cmd" not in s or not (ex.get("stdout") or ex.get("stdout_not") or s.get("capture")
                                          or "|" in s["cmd"]):
                    continue
                step_id = "%s/%s/%d%s" % (rb, phase, idx, "/undo" if undo else "")
                for fx in fixtures:
                    if not any(uses_tool(s["cmd"], t) for t in [fx["tool"]] + fx.get("also_for", [])):
                        continue
                    if fx.get("only_steps") and not re.search(fx["only_steps"], s["cmd"]):
                        continue  # an excerpt: it stands only for steps that read that part
                    env = {k: v for k, v in s.get("env", {}).items() if v is not None}
                    env.update(fx.get("captures", {}).get(step_id, {}))
                    refs = set(re.findall(r"\$\{?(RBX_[A-Z]_[a-z0-9_]+)", s["cmd"]))
                    if refs - set(env):
                        continue  # it needs a value no capture of this situation gives
                    env["RBX_NODE"] = "n42"
                    real = run_real(fx, fixdir, s["cmd"], env, work)
                    if real is None:
                        continue
                    used.add(fx["file"])
                    rr = read(rbx_rx, rb, phase, idx, undo, real[0], real[1], base_env)
                    check = {"step": step_id, "name": s.get("name", ""), "fixture": fx["file"],
                             "real": rr}
                    want = fx.get("reads", {}).get(step_id)
                    if want is not None:
                        for k, v in want.items():
                            got = rr["ok"] if k == "ok" else rr["captures"].get(k)
                            if (v == "*" and not got) or (v != "*" and got != v):
                                problems.append("%s misreads real %s: %s is %r, should be %r"
                                                % (step_id, fx["file"], k, got, v))
                    if fx.get("lab") is not None:
                        lab = run_lab(rbx, state, fx["lab"], s["cmd"], env)
                        lr = read(rbx_rx, rb, phase, idx, undo, lab[0], lab[1], base_env)
                        check["lab"] = lr
                        if lr["ok"] != rr["ok"]:
                            problems.append("%s reads the lab (%s) and real %s differently: "
                                            "lab %s (%s), real %s (%s)"
                                            % (step_id, fx["lab"] or "healthy", fx["file"],
                                               "ok" if lr["ok"] else "fails", lr["why"],
                                               "ok" if rr["ok"] else "fails", rr["why"]))
                        for k in rr["captures"]:
                            if bool(rr["captures"][k]) != bool(lr["captures"].get(k)):
                                problems.append("%s capture %s: real %s gives %r, the lab (%s) %r"
                                                % (step_id, k, fx["file"], rr["captures"][k],
                                                   fx["lab"] or "healthy", lr["captures"].get(k)))
                    checks.append(check)
        # A reading the index asks for must have been made: a step that no longer calls
        # the tool as the capture was taken would otherwise pass unread.
        done = {(c["step"], c["fixture"]) for c in checks}
        for fx in fixtures:
            for step_id in fx.get("reads", {}):
                if (step_id, fx["file"]) not in done:
                    problems.append("%s is never read by %s, which the index says reads it "
                                    "(the step or the capture's tool and args changed)"
                                    % (fx["file"], step_id))
        for fx in fixtures:
            if fx["file"] not in used and not fx.get("unused_because"):
                problems.append("%s proves nothing: no runbook step reads it (say why in "
                                "unused_because)" % fx["file"])
            if not os.path.exists(os.path.join(fixdir, fx["file"])):
                problems.append("%s is in the index but not in %s" % (fx["file"], fixdir))
        listed = {fx["file"] for fx in fixtures}
        for f in os.listdir(fixdir):
            if f != os.path.basename(index_path) and f not in listed:
                problems.append("%s has no entry in the index (source, version, hardware)" % f)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # Known disagreements not fixed yet: listed in the index with their reason, shown,
    # not failed on; one that no longer happens must leave the list.
    still_open = []
    for o in index.get("open", []):
        hit = [p for p in problems if p.startswith(o["step"] + " ") and o["fixture"] in p]
        if hit:
            still_open.append("%s with %s: %s" % (o["step"], o["fixture"], o["why"]))
            problems = [p for p in problems if p not in hit]
        else:
            problems.append("open item %s with %s no longer happens: take it off the list"
                            % (o["step"], o["fixture"]))
    if report:
        json.dump({"checks": checks, "problems": problems, "open": still_open},
                  open(report, "w"), indent=1)
    if markdown:
        with open(markdown, "w") as f:
            f.write(evidence_page(index, names, checks, still_open))
    print("conformance: %d checks of %d runbook steps against %d real captures, %d problems, "
          "%d open" % (len(checks), len({c["step"] for c in checks}), len(used), len(problems),
                       len(still_open)))
    for p in problems:
        print("  " + p)
    for o in still_open:
        print("  open: " + o)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
