#!/usr/bin/env python3
# tests/tools/layers.py - checks the house rules of src/: each file uses only its own
# layer and those below, no two files use each other (directly or round a loop), no
# file reaches 700 lines, only cli/ prints or exits, and only lab/ names the lab.
# Usage: layers.py BUILD_DIR   (object files give the real call graph, via nm)
import collections, glob, os, re, subprocess, sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Bottom up. core and lab stand side by side: neither uses the other.
RANK = {"base": 0, "io": 1, "backends": 2, "core": 3, "lab": 3, "app": 4, "cli": 5}
MAX_LINES = 700
# Symbols that print to the user or end the process.
PRINTERS = {"printf", "__printf_chk", "puts", "putchar", "fputs", "fputc", "putc",
            "vprintf", "__vprintf_chk", "perror", "exit", "_exit", "_Exit", "err", "errx",
            "warn", "warnx"}
# fprintf/fwrite/vfprintf are printing only when aimed at stdout/stderr; the source
# check below looks for that.
STREAM_RE = re.compile(r"\b(fprintf|vfprintf|fputs|fwrite|fputc|putc|fflush)\s*\(\s*(stdout|stderr)")
# Where printing or exiting is the point, outside cli/:
PRINT_OK = {
    "base/util.c": "xmalloc's one line before abort() when memory runs out",
}
# Outside lab/, the lab's code is reached only where backends are registered and by
# the `rbx lab` command, as tmux's cmd_table names every command. cli/ may say "lab"
# to its user (the --lab flag); no layer below cli/ names it at all.
LAB_OK = {"cli/registry.c", "cli/cmd_lab.c"}
# A forked child ends with _exit(): the process that ends is not rbx's own.
EXIT_IN_CHILD = {"backends/exec_local.c": "a step's child whose exec failed",
                 "app/roll.c": "a node's run, forked by the roll",
                 "app/serve_auto.c": "an auto run's child whose exec failed",
                 "app/test_run.c": "a scenario's run, whose exec failed"}

problems = []

def layer_of(rel):
    return rel.split("/", 1)[0]

def check_files():
    for path in sorted(glob.glob(os.path.join(TOP, "src", "*", "*.[ch]"))):
        rel = os.path.relpath(path, os.path.join(TOP, "src"))
        lay = layer_of(rel)
        if lay not in RANK:
            problems.append(f"src/{rel}: folder '{lay}' is not a layer ({', '.join(RANK)})")
            continue
        text = open(path, encoding="utf-8").read()
        lines = text.count("\n")
        if lines >= MAX_LINES:
            problems.append(f"src/{rel}: {lines} lines (files stay under {MAX_LINES})")
        for n, line in enumerate(text.splitlines(), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m:
                inc = m.group(1)
                il = inc.split("/", 1)[0] if "/" in inc else None
                if il not in RANK:
                    problems.append(f"src/{rel}:{n}: include \"{inc}\" names no layer")
                elif RANK[il] > RANK[lay] or (RANK[il] == RANK[lay] and il != lay):
                    problems.append(f"src/{rel}:{n}: {lay}/ includes {inc}, which is not below it")
            if lay != "cli" and rel not in PRINT_OK and not rel.startswith("lab/lab_tools") \
                    and STREAM_RE.search(line):
                problems.append(f"src/{rel}:{n}: prints to stdout/stderr outside cli/")
            if lay == "cli" and rel not in LAB_OK and re.search(r'#\s*include\s+"lab/', line):
                problems.append(f"src/{rel}:{n}: includes the lab outside src/lab/ and the registry")
            if lay not in ("lab", "cli") and re.search(r"\blab", line, re.I) \
                    and not re.search(r"\blabels?\b|\blabel_|\blabel\w*\(", line, re.I):
                problems.append(f"src/{rel}:{n}: names the lab outside src/lab/: {line.strip()[:70]}")

def symbols(build):
    defs, undef = {}, {}
    for o in glob.glob(os.path.join(build, "*", "*.o")):
        rel = os.path.relpath(o, build)[:-2] + ".c"
        if rel.startswith(("hooks/", "tests/")):
            continue
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        u = set()
        for l in out.splitlines():
            p = l.split()
            if len(p) == 3 and p[1] in "TDBRC":
                defs[p[2]] = rel
            elif len(p) == 2 and p[0] == "U":
                u.add(p[1])
        undef[rel] = u
    return defs, undef

def check_graph(build):
    defs, undef = symbols(build)
    if not undef:
        problems.append(f"{build}: no object files; build first")
        return
    g = collections.defaultdict(set)
    for f, u in undef.items():
        lay = layer_of(f)
        for s in u:
            if s in ("_exit", "_Exit") and f in EXIT_IN_CHILD:
                continue
            if s in PRINTERS and lay != "cli" and f not in PRINT_OK and \
                    not f.startswith("lab/lab_tools"):
                problems.append(f"src/{f}: calls {s}() outside cli/")
            t = defs.get(s)
            if not t or t == f:
                continue
            g[f].add(t)
            tl = layer_of(t)
            if RANK[tl] > RANK[lay] or (RANK[tl] == RANK[lay] and tl != lay):
                problems.append(f"src/{f}: uses {s} from src/{t}, which is not below {lay}/")
    # Loops: Tarjan's strongly connected components over files.
    index, low, stack, on, sccs = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while True:
                w = stack.pop(); on.discard(w); c.append(w)
                if w == v:
                    break
            if len(c) > 1:
                sccs.append(sorted(c))
    for v in sorted(undef):
        if v not in index:
            visit(v)
    for c in sccs:
        problems.append("loop between files: " + " <-> ".join("src/" + x for x in c))
    return g

def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build", "release")
    check_files()
    check_graph(build)
    for p in problems:
        print(p)
    print(f"layers: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
