"""docs/architecture.md is kept true: the import directions it allows, no import cycle, and
light imports of the maths (no engine, data or progress bar behind ``ibkit.estimators``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"


def _allowed() -> dict[str, set[str]]:
    """The ``may import`` column of the table in docs/architecture.md."""
    table: dict[str, set[str]] = {}
    for line in (REPO / "docs" / "architecture.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            part = cells[0].strip("`")
            table[part] = {c.strip().strip("`") for c in cells[2].split(",") if c.strip()}
    for part in table:
        if any(c.startswith("every part except") for c in table[part]):
            table[part] = set(table) - {"cli", part}
    return table


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def _imports() -> dict[str, set[str]]:
    """Module -> the ibkit modules it imports (anywhere in the file)."""
    graph: dict[str, set[str]] = defaultdict(set)
    paths = list((SRC / "ibkit").rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    for path in paths:
        mod = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # ``from package import submodule`` imports the submodule
                names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                         else node.module for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            graph[mod] |= {n for n in names if (n == "ibkit" or n.startswith("ibkit.")) and n != mod}
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ibkit"


def test_every_import_follows_the_documented_directions() -> None:
    allowed = _allowed()
    found = {_part(m) for m in _imports()}
    assert found <= set(allowed), f"parts missing from docs/architecture.md: {found - set(allowed)}"
    wrong = sorted(f"{m} imports {n}" for m, names in _imports().items() for n in names
                   if _part(n) not in (_part(m), "ibkit") and _part(n) not in allowed[_part(m)])
    assert wrong == []


def test_no_import_cycle_between_modules() -> None:
    graph = _imports()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n] if n in stack else [m, n])
            elif n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_estimators_and_the_plane_load_no_engine_data_or_progress_bar() -> None:
    code = ("import sys, ibkit.estimators, ibkit.plane, ibkit.layers, ibkit.objectives; "
            "print(sorted(m for m in sys.modules if m.startswith(('ibkit.engine', 'ibkit.data', "
            "'ibkit.experiments', 'tqdm.auto', 'matplotlib'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
