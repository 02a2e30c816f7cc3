#!/usr/bin/env python3
# bench/peak.py - runs a command and prints its wall time and peak memory: the largest
# total RSS of its whole process tree at any sample (every 50 ms), and the largest
# single process. Usage: bench/peak.py CMD [ARGS...]  ->  "SECONDS TOTAL_KIB SINGLE_KIB EXIT"
import os
import subprocess
import sys
import time


def tree_rss(root):
    """Sum and max of VmRSS (KiB) over root and every descendant, read from /proc."""
    kids, rss = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss[int(pid)] = int(line.split()[1])
                        break
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(pid))
    total, single, todo = 0, 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        single = max(single, rss.get(p, 0))
        todo.extend(kids.get(p, []))
    return total, single


def main():
    t0 = time.monotonic()
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_total = peak_single = 0
    while proc.poll() is None:
        total, single = tree_rss(proc.pid)
        peak_total = max(peak_total, total)
        peak_single = max(peak_single, single)
        time.sleep(0.05)
    wall = time.monotonic() - t0
    print(f"{wall:.3f} {peak_total} {peak_single} {proc.returncode}")


main()
