#!/usr/bin/env python3
"""layers.py BUILD_DIR: check that no source file of the program depends on
itself through others. Reads the two libraries' members (nm), links each
undefined symbol to the member that defines it, and finds the strongly
connected components of that graph (Kosaraju: two depth-first passes). Prints
the members of each component with more than one file and exits 1, or prints
how many files it checked and exits 0."""
import os
import subprocess
import sys


def members(archive):
    """{member: (defined, used)} of a static library, from nm."""
    out = subprocess.run(["nm", "-A", archive], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split(":", 2)  # ARCHIVE:MEMBER:nm's line
        if len(parts) != 3:
            continue
        member, fields = parts[1], parts[2].split()
        defined, used = table.setdefault(member, (set(), set()))
        if len(fields) == 3 and fields[1] in "TDBRC":
            defined.add(fields[2])
        elif len(fields) == 2 and fields[0] == "U":
            used.add(fields[1])
    return table


def source_name(member):
    """libapp_a-ui-ft.o -> ui-ft (automake prefixes per-target objects)."""
    name = member[:-2] if member.endswith(".o") else member
    for prefix in ("libapp_a-", "libseqmatch_a-"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "."
    nodes = {}
    for lib, layer in (("engine/libseqmatch.a", "engine"), ("app/libapp.a", "app")):
        for member, syms in members(os.path.join(build, lib)).items():
            nodes[layer + "/" + source_name(member)] = syms
    owner = {}
    for node, (defined, _) in nodes.items():
        for sym in defined:
            owner.setdefault(sym, node)
    edges = {n: sorted({owner[s] for s in used if s in owner and owner[s] != n})
             for n, (_, used) in nodes.items()}
    reverse = {n: [] for n in nodes}
    for n, targets in edges.items():
        for t in targets:
            reverse[t].append(n)

    # Kosaraju: finishing order on the graph, then components on the reverse.
    order, seen = [], set()
    for start in sorted(nodes):
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(edges[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next((t for t in it if t not in seen), None)
            if nxt is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(edges[nxt])))
    comps, assigned = [], set()
    for start in reversed(order):
        if start in assigned:
            continue
        comp, todo = [], [start]
        assigned.add(start)
        while todo:
            node = todo.pop()
            comp.append(node)
            for src in reverse[node]:
                if src not in assigned:
                    assigned.add(src)
                    todo.append(src)
        comps.append(sorted(comp))
    cycles = [c for c in comps if len(c) > 1]
    for c in cycles:
        print("cycle of %d files: %s" % (len(c), " ".join(c)))
    if not cycles:
        print("%d files, no cycle" % len(nodes))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
