"""The shape of blueprint/ that keeps it readable: no import cycle, small modules, no repeated code, a docstring each.

Imports inside functions count (a lazy import is still a dependency), and so does a module named in a
string the code imports or runs (the CLI's command table, `python -m ...`).
"""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "blueprint"
MAX_LINES = 450
REPEAT = 6  # this many identical lines, found twice, are one piece of code written twice


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """The blueprint modules a file depends on: its imports anywhere in it, and modules it names as text."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & known
            found.update(submodules or {node.module})
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                re.fullmatch(r"blueprint(\.\w+)+", node.value):
            found.add(node.value)  # a module imported or run by name
    me = module_name(path)
    return {name for name in found if name in known and name != me}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_blueprint():
    edges = graph()
    assert "blueprint.ship.deploy" in edges["blueprint.cli"]  # the command table counts as imports
    assert cycles(edges) == []


def test_stages_depend_only_on_earlier_ones():
    """spec <- render <- ship, all three over cfn; local beside them, never importing ship."""
    allowed = {
        "blueprint.cfn": {"blueprint.cfn", "blueprint.errors"},
        "blueprint.spec": {"blueprint.spec", "blueprint.cfn", "blueprint.errors"},
        "blueprint.render": {"blueprint.render", "blueprint.spec", "blueprint.cfn", "blueprint.errors"},
        "blueprint.local": {"blueprint.local", "blueprint.cfn", "blueprint.render", "blueprint.spec",
                            "blueprint.errors", "blueprint.state"},
    }
    wrong = []
    for module, deps in graph().items():
        for stage, ok in allowed.items():
            if module == stage or module.startswith(stage + "."):
                wrong += [f"{module} -> {d}" for d in deps if not any(d == a or d.startswith(a + ".") for a in ok)]
    assert wrong == []


def test_no_module_is_over_the_size_limit():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_every_module_says_its_job():
    assert [name for name, path in modules().items() if not ast.get_docstring(ast.parse(path.read_text()))] == []


def repeated_runs(files: dict[str, list[str]], size: int = REPEAT) -> dict[tuple[str, ...], list[str]]:
    """Runs of `size` identical non-blank lines (compared stripped) found in more than one place."""
    seen: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for name, lines in files.items():
        kept = [(i + 1, line.strip()) for i, line in enumerate(lines) if line.strip()]
        for start in range(len(kept) - size + 1):
            window = tuple(text for _, text in kept[start:start + size])
            if sum(len(t) > 3 for t in window) >= size - 1:  # runs of brackets are layout, not code
                seen[window].append(f"{name}:{kept[start][0]}")
    repeats = {w: places for w, places in seen.items() if len(places) > 1}
    return {w: places for w, places in repeats.items() if not _overlapping(places, size)}


def _overlapping(places: list[str], size: int) -> bool:
    """One long run of the same line (a table, say) matches itself shifted by one: not a repeat."""
    files = {p.rsplit(":", 1)[0] for p in places}
    lines = sorted(int(p.rsplit(":", 1)[1]) for p in places)
    return len(files) == 1 and all(b - a < size for a, b in zip(lines, lines[1:]))


def test_the_repeat_finder_sees_a_copied_block():
    block = [f"value_{i} = compute({i})" for i in range(6)]
    assert list(repeated_runs({"a": block, "b": ["x = 1", *block]}).values()) == [["a:1", "b:2"]]
    assert repeated_runs({"a": block[:5], "b": block[:5]}) == {}


def test_no_code_is_written_twice_inside_blueprint():
    files = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8").splitlines() for p in modules().values()}
    assert {" | ".join(places): window[0] for window, places in repeated_runs(files).items()} == {}


def test_every_requirement_id_cited_is_explained():
    explained = set(re.findall(r"^\| (R\d+|G\d+) \|", (ROOT / "docs" / "requirements.md").read_text(), re.M))
    cited = set()
    for path in [*(ROOT / "templates").glob("*.j2"), *(ROOT / "tests").rglob("*.py"), *PACKAGE.rglob("*.py")]:
        cited.update(re.findall(r"\b(?:Test)?((?:R|G)1?\d)(?=[A-Z\b,;:) ]|$)", path.read_text(encoding="utf-8")))
    assert explained >= {"R1", "R17", "G1", "G12"}
    assert cited and cited <= explained
