"""Fail if any modules of parlour import each other in a cycle, directly or through others.

import-linter's `layers` contract keeps the layers in order, but a cycle inside one layer (a
package whose submodules import its `__init__`, two store modules needing each other) slips
through it. Run by tools/check; uses grimp, the import graph that import-linter is built on.
"""

from __future__ import annotations

import sys

import grimp


def cycles(package: str) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan's algorithm)."""
    graph = grimp.build_graph(package)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def main() -> int:
    found = cycles("parlour")
    for component in found:
        print("import cycle among:", ", ".join(component))
    if found:
        print(f"{len(found)} import cycle(s): break them (see docs/architecture.md)")
        return 1
    print("import cycles: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
