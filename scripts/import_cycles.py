"""Print the import cycles between our modules (strongly connected components).

Reads every import statement, including those inside functions, with grimp
(the graph import-linter uses), and lists each group of modules that import
one another round a loop. `python scripts/import_cycles.py` from the repo root;
exit status 0 always (a report, not a check: the contracts are the check).
"""

from __future__ import annotations

import sys

import grimp

PACKAGES = (
    "lending",
    "core",
    "rails",
    "users",
    "customers",
    "origination",
    "servicing",
    "arrears",
    "reporting",
)


def strongly_connected(graph, modules):
    """Tarjan's algorithm over the module graph, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def main() -> int:
    sys.path.insert(0, ".")
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    modules = {m for m in graph.modules if m.split(".")[0] in PACKAGES and ".migrations" not in m}
    groups = strongly_connected(graph, modules)
    print(f"import cycles: {len(groups)} groups, {sum(len(g) for g in groups)} modules")
    for group in sorted(groups, key=len, reverse=True):
        print(f"- {len(group)} modules: " + ", ".join(group))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
