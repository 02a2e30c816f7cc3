#!/usr/bin/env python3
# bench/start.py - paired start-up timing: each rbx command and `ssh -V`, alternating
# (A B, then B A, ...), so both see the same machine at the same moment. Prints a table
# row per rbx command: the medians and the median of the per-pair ratios.
# Usage: bench/start.py RBX RUNS 'ARGS' ['ARGS'...]   (run by bench/start.sh)
import os
import statistics
import sys
import time


def once(argv):
    devnull = os.open(os.devnull, os.O_RDWR)
    t = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    ns = time.perf_counter_ns() - t
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench/start.py: %s failed" % " ".join(argv))
    return ns / 1e6


def main():
    rbx, runs, cmds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    ssh = ["/usr/bin/ssh", "-V"]
    print("| command | rbx median | `ssh -V` median | ratio (median of pairs) |")
    print("|---|---:|---:|---:|")
    for c in cmds:
        argv = [rbx] + c.split()
        for _ in range(5):
            once(argv), once(ssh)
        a, b, r = [], [], []
        for i in range(runs):
            if i % 2:
                y, x = once(ssh), once(argv)
            else:
                x, y = once(argv), once(ssh)
            a.append(x), b.append(y), r.append(x / y)
        print("| `rbx %s` | %.2f ms | %.2f ms | %.2f |" % (
            c, statistics.median(a), statistics.median(b), statistics.median(r)))


main()
