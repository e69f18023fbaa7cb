#!/usr/bin/python3
"""The C trees' files form layers: includes and calls only point down.

In each tree (the nginx module, the scheduler, the domain rules), each file
pair X.c/X.h is one node; a header with no .c of its own (types, or
declarations of handlers defined elsewhere) is a node too.  A node depends
on another when one of its files includes the other's header, or its .c
names a function the other defines (a call, or a function pointer in a
table).  The check fails on a circle, and on a file longer than the limit;
otherwise it prints each tree's layers, lowest first.

    /usr/bin/python3 tests/lint/layers.py [--max-lines N]
"""

import argparse
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

# (folder, prefix of its file names, prefix of its functions' names)
TREES = [
    ("ngx_dukcapil_module", "ngx_http_dukcapil_", "ngx_http_dukcapil_"),
    ("scheduler", "", "dk_"),
    ("domain", "", "dk_"),
]

COMMENT = re.compile(r"/\*.*?\*/", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def node_of(filename, prefix):
    return filename[len(prefix):-2]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def graph(folder, prefix, names):
    definition = re.compile(r"^(" + names + r"\w+)\(", re.M)
    include = re.compile(r'^#include\s+"(' + prefix + r'\w+)\.h"', re.M)
    name_re = re.compile(r"\b(" + names + r"\w+)\b")
    folder = os.path.join(REPO, folder)
    files = sorted(f for f in os.listdir(folder)
                   if f.startswith(prefix) and f.endswith((".c", ".h")))
    text = {f: read(os.path.join(folder, f)) for f in files}
    uncommented = {f: COMMENT.sub(" ", t) for f, t in text.items()}
    code = {f: STRING.sub('""', t) for f, t in uncommented.items()}

    defined = {}
    for f in files:
        if f.endswith(".c"):
            for name in definition.findall(code[f]):
                defined[name] = node_of(f, prefix)

    nodes = {node_of(f, prefix) for f in files}
    edges = {n: {} for n in nodes}
    for f in files:
        a = node_of(f, prefix)
        for header in include.findall(uncommented[f]):
            b = header[len(prefix):]
            if b != a and b in nodes:
                edges[a].setdefault(b, "%s includes %s.h" % (f, header))
        if f.endswith(".h"):
            continue                  # a header declares; its .c calls
        for name in name_re.findall(code[f]):
            b = defined.get(name)
            if b and b != a:
                edges[a].setdefault(b, "%s names %s()" % (f, name))
    return files, text, edges


def circle(edges):
    """A circle as a list of nodes, or None."""
    state = {}

    def visit(n, path):
        state[n] = 1
        path.append(n)
        for m in sorted(edges[n]):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                found = visit(m, path)
                if found:
                    return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            found = visit(n, [])
            if found:
                return found
    return None


def layers(edges):
    level = {}

    def depth(n):
        if n not in level:
            level[n] = 1 + max((depth(m) for m in edges[n]), default=-1)
        return level[n]

    for n in edges:
        depth(n)
    out = {}
    for n, d in level.items():
        out.setdefault(d, []).append(n)
    return [sorted(out[d]) for d in sorted(out)]


def check(folder, prefix, names, max_lines):
    files, text, edges = graph(folder, prefix, names)
    failed = False

    for f in files:
        n = text[f].count("\n")
        if n > max_lines:
            print("%s/%s: %d lines, over %d" % (folder, f, n, max_lines))
            failed = True

    found = circle(edges)
    if found:
        print("%s: circle: %s" % (folder, " -> ".join(found)))
        for a, b in zip(found, found[1:]):
            print("  " + edges[a][b])
        failed = True
    else:
        print("%s:" % folder)
        for i, layer in enumerate(layers(edges)):
            print("  layer %d: %s" % (i, " ".join(layer)))

    if not failed:
        print("%s: %d files, no circle, none over %d lines"
              % (folder, len(files), max_lines))
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-lines", type=int, default=600)
    args = ap.parse_args()

    failed = [check(folder, prefix, names, args.max_lines)
              for folder, prefix, names in TREES]
    return 1 if any(failed) else 0


if __name__ == "__main__":
    sys.exit(main())
