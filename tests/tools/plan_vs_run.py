#!/usr/bin/env python3
# plan_vs_run.py - checks that a run did what `rbx plan` said it would: every step it
# started, every undo and every guard call is in the plan, with the same command and target.
# Usage: plan_vs_run.py PLAN.json JOURNAL.jsonl   (exit 1 with one line per difference)
import json
import sys


def main():
    plan = json.load(open(sys.argv[1]))
    recs = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
    run_id = recs[0]["run"]
    steps = {}
    undos = {}
    for phase, lst in plan["phases"].items():
        for s in lst:
            steps[(phase, s["index"])] = s
            if "undo" in s:
                undos[s["index"]] = s["undo"]
    bad = []
    started = 0
    for r in recs:
        if r["type"] == "step_start":
            started += 1
            if r["phase"] == "undo":
                p = undos.get(r["of"])
            else:
                p = steps.get((r["phase"], r["index"]))
            where = "%s %s '%s'" % (r["phase"], r.get("of", r["index"]), r["name"])
            if p is None:
                bad.append("%s ran but is not in the plan" % where)
                continue
            if p.get("cmd") != r.get("cmd"):
                bad.append("%s: the plan says %r, the run ran %r" % (where, p.get("cmd"), r.get("cmd")))
            if p.get("target") != r.get("target"):
                bad.append("%s: the plan says on %r, the run used %r" % (where, p.get("target"), r.get("target")))
        elif r["type"] == "guard" and r.get("status") == "start" and r["op"] in ("cordon", "drain"):
            g = plan["guard"]
            want = g.get("reason", "").replace("{{run.id}}", run_id)
            if r.get("reason") != want:
                bad.append("guard %s: the plan gives reason %r, the run gave %r" % (r["op"], want, r.get("reason")))
            if r.get("backend") != g.get("backend"):
                bad.append("guard %s: the plan says via %r, the run used %r" % (r["op"], g.get("backend"), r.get("backend")))
            if not g.get(r["op"]):
                bad.append("guard %s ran but the plan has no %s" % (r["op"], r["op"]))
    rs = [r for r in recs if r["type"] == "run_start"][0]
    if rs.get("transport") != plan.get("transport"):
        bad.append("transport: plan %r, run %r" % (plan.get("transport"), rs.get("transport")))
    for b in bad:
        print(b)
    if not started and not bad:
        print("(no step started)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
