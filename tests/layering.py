#!/usr/bin/env python3
"""Layering test: one room per part, arrows one way.

  util <- policy <- reporter <- milter, ctl

Fails (exit 1, one line per finding) when
  - a source file includes a header of a folder it may not depend on
    (a folder above it, or a sibling: ctl never includes milter/);
  - two modules depend on each other, directly or round a longer loop.
    A module is one .c file (its .h goes with it); "depends" is read
    twice: from the #include lines (a header belongs to the module of
    the same name) and, where the build tree is given, from the symbols
    each object file takes from another (nm), which also catches calls
    declared in a shared header.

Usage: layering.py [SRCDIR [BUILDDIR]]
  (default: $srcdir and $top_builddir, as "make check" sets them)

Before it reads the tree it checks itself: it plants an upward include
and a pair of modules that include each other in a scratch copy of
util/ and fails if it does not find both.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Each folder and the folders its sources may include from.
ALLOWED = {
    "util": {"util"},
    "policy": {"util", "policy"},
    "reporter": {"util", "policy", "reporter"},
    "milter": {"util", "policy", "reporter", "milter"},
    "ctl": {"util", "policy", "reporter", "ctl"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(srcdir):
    for folder in ALLOWED:
        d = os.path.join(srcdir, folder)
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                yield folder, name, os.path.join(d, name)


def module_of(folder, name):
    """tp_buf.h and buf.c are the module util/buf."""
    base = name.rsplit(".", 1)[0]
    if base.startswith("tp_"):
        base = base[3:]
    return folder + "/" + base


def cycles(graph):
    """The strongly connected components with more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def include_findings(srcdir):
    # Only a .c file makes a module; a header without one (an internal
    # header shared by several files) is no node of its own.
    found, graph, modules = [], {}, set()
    for folder, name, path in sources(srcdir):
        if name.endswith(".c"):
            modules.add(module_of(folder, name))
    for folder, name, path in sources(srcdir):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        me = module_of(folder, name)
        for n, line in enumerate(text.splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(1) == "config.h":
                continue
            inc = m.group(1)
            if "/" not in inc:
                found.append(f"{folder}/{name}:{n}: include \"{inc}\" "
                             "names no folder")
                continue
            there = inc.split("/", 1)[0]
            if there not in ALLOWED[folder]:
                found.append(f"{folder}/{name}:{n}: {folder}/ includes "
                             f"{inc}: {folder}/ may use only "
                             + ", ".join(sorted(ALLOWED[folder])))
            other = module_of(there, os.path.basename(inc))
            if other != me and me in modules and other in modules:
                graph.setdefault(me, set()).add(other)
    for comp in cycles(graph):
        found.append("modules include each other: " + " <-> ".join(comp))
    return found


def symbol_findings(builddir):
    """Calls up the layers, and modules that call each other (nm)."""
    found, defined, used = [], {}, {}
    for folder in ALLOWED:
        d = os.path.join(builddir, folder)
        if not os.path.isdir(d):
            continue
        for o in sorted(n for n in os.listdir(d) if n.endswith(".o")):
            # automake names a per-target object TARGET-module.o
            mod = folder + "/" + re.sub(r"^.*-", "", o[:-2])
            out = subprocess.run(["nm", os.path.join(d, o)], check=True,
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in "TDBR":
                    defined[parts[2]] = mod
                elif len(parts) == 2 and parts[0] == "U":
                    used.setdefault(mod, set()).add(parts[1])
    graph = {}
    for mod, syms in sorted(used.items()):
        for sym in sorted(syms):
            other = defined.get(sym)
            if not other or other == mod:
                continue
            here, there = mod.split("/")[0], other.split("/")[0]
            if there not in ALLOWED[here]:
                found.append(f"{mod} calls {sym} of {other}: {here}/ may "
                             "use only " + ", ".join(sorted(ALLOWED[here])))
            graph.setdefault(mod, set()).add(other)
    for comp in cycles(graph):
        found.append("modules call each other: " + " <-> ".join(comp))
    return found


def self_test(srcdir):
    """The checks find a planted upward include and include cycle."""
    with tempfile.TemporaryDirectory() as scratch:
        for folder in ALLOWED:
            os.mkdir(os.path.join(scratch, folder))
        shutil.copytree(os.path.join(srcdir, "util"),
                        os.path.join(scratch, "util"), dirs_exist_ok=True)
        with open(os.path.join(scratch, "util", "buf.c"), "a") as f:
            f.write('#include "policy/tp_policy.h"\n')
        with open(os.path.join(scratch, "util", "lines.c"), "a") as f:
            f.write('#include "util/tp_errors.h"\n')
        with open(os.path.join(scratch, "util", "errors.c"), "a") as f:
            f.write('#include "util/tp_lines.h"\n')
        found = include_findings(scratch)
    upward = any("util/ includes policy/tp_policy.h" in f for f in found)
    cycle = any("util/errors <-> util/lines" in f for f in found)
    if not (upward and cycle):
        print("layering: self-test: a planted upward include or include "
              "cycle went unnoticed", file=sys.stderr)
        return False
    return True


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1].startswith("-")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    srcdir = argv[1] if len(argv) > 1 else os.environ.get("srcdir", ".")
    builddir = argv[2] if len(argv) > 2 else os.environ.get("top_builddir")
    if not self_test(srcdir):
        return 1
    found = include_findings(srcdir)
    if builddir:
        found += symbol_findings(builddir)
    for f in found:
        print("layering: " + f)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
