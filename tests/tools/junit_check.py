#!/usr/bin/env python3
# junit_check.py - checks a JUnit XML file from `rbx test --junit` against what CI tools
# read (Jenkins' junit plugin, GitLab's and GitHub's test reports: testsuites > testsuite >
# testcase, with failure children) and against the run's JSON: one suite per runbook, one
# case per scenario, the counts and the failures the same.
# Usage: junit_check.py JUNIT.xml RESULTS.json
import json
import sys
import xml.etree.ElementTree as ET


def main():
    root = ET.parse(sys.argv[1]).getroot()
    res = json.load(open(sys.argv[2]))
    bad = []
    if root.tag != "testsuites":
        bad.append("the root is <%s>, not <testsuites>" % root.tag)
    cases = []
    for suite in root:
        if suite.tag != "testsuite":
            bad.append("<%s> under <testsuites>" % suite.tag)
            continue
        mine = [c for c in suite if c.tag == "testcase"]
        for attr in ("name", "tests", "failures", "time"):
            if attr not in suite.attrib:
                bad.append("suite %s has no %s" % (suite.get("name"), attr))
        if int(suite.get("tests", -1)) != len(mine):
            bad.append("suite %s says tests=%s, holds %d" % (suite.get("name"), suite.get("tests"), len(mine)))
        failed = sum(1 for c in mine if c.find("failure") is not None)
        if int(suite.get("failures", -1)) != failed:
            bad.append("suite %s says failures=%s, holds %d" % (suite.get("name"), suite.get("failures"), failed))
        for c in mine:
            for attr in ("classname", "name", "file", "line", "time"):
                if attr not in c.attrib:
                    bad.append("case %s has no %s" % (c.get("name"), attr))
            float(c.get("time", "0"))
            cases.append((c.get("classname"), c.get("name"), c.find("failure") is None))
    want = [(s["runbook"], s["scenario"], s["pass"]) for s in res["scenarios"]]
    if sorted(cases) != sorted(want):
        bad.append("the cases differ from the JSON results: %d against %d" % (len(cases), len(want)))
    if int(root.get("tests", -1)) != len(want):
        bad.append("testsuites says tests=%s, the run had %d" % (root.get("tests"), len(want)))
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


main()
