#!/usr/bin/python3
"""The nginx module's files form layers: includes and calls only point down.

Each file pair X.c/X.h of ngx_dukcapil_module/ is one node; a header with no
.c of its own (types, or declarations of handlers defined elsewhere) is a
node too.  A node depends on another when one of its files includes the
other's header, or its .c names a function the other defines (a call, or a
function pointer in a table).  The check fails on a
circle, and on a file longer than the limit; otherwise it prints the layers,
lowest first.

    /usr/bin/python3 tests/lint/module_layers.py [--max-lines N]
"""

import argparse
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
MODULE = os.path.join(REPO, "ngx_dukcapil_module")
PREFIX = "ngx_http_dukcapil_"

DEFINITION = re.compile(r"^(" + PREFIX + r"\w+)\(", re.M)
INCLUDE = re.compile(r'^#include\s+"(' + PREFIX + r'\w+)\.h"', re.M)
NAME = re.compile(r"\b(" + PREFIX + r"\w+)\b")
COMMENT = re.compile(r"/\*.*?\*/", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def node_of(filename):
    return filename[len(PREFIX):-2]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def graph():
    files = sorted(f for f in os.listdir(MODULE)
                   if f.startswith(PREFIX) and f.endswith((".c", ".h")))
    text = {f: read(os.path.join(MODULE, f)) for f in files}
    uncommented = {f: COMMENT.sub(" ", t) for f, t in text.items()}
    code = {f: STRING.sub('""', t) for f, t in uncommented.items()}

    defined = {}
    for f in files:
        if f.endswith(".c"):
            for name in DEFINITION.findall(code[f]):
                defined[name] = node_of(f)

    nodes = {node_of(f) for f in files}
    edges = {n: {} for n in nodes}
    for f in files:
        a = node_of(f)
        for header in INCLUDE.findall(uncommented[f]):
            b = header[len(PREFIX):]
            if b != a and b in nodes:
                edges[a].setdefault(b, "%s includes %s.h" % (f, header))
        if f.endswith(".h"):
            continue                  # a header declares; its .c calls
        for name in NAME.findall(code[f]):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-lines", type=int, default=600)
    args = ap.parse_args()

    files, text, edges = graph()
    failed = False

    for f in files:
        n = text[f].count("\n")
        if n > args.max_lines:
            print("%s: %d lines, over %d" % (f, n, args.max_lines))
            failed = True

    found = circle(edges)
    if found:
        print("circle: " + " -> ".join(found))
        for a, b in zip(found, found[1:]):
            print("  " + edges[a][b])
        failed = True
    else:
        for i, layer in enumerate(layers(edges)):
            print("layer %d: %s" % (i, " ".join(layer)))

    if failed:
        return 1
    print("module layers: %d files, no circle, none over %d lines"
          % (len(files), args.max_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
