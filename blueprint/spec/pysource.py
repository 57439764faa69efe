"""Read a literal constant from another part of the project's Python source, without importing it.

The spec stage must not import the handler (boto3, Powertools) or the ship stage (a later stage), yet
some of its checks are about what those parts do: the attributes the handler writes, the runtimes the
package step builds. Parsing the file for the one assignment keeps a single copy of each list, in the
code that acts on it, and costs no import.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent.parent


_BUILDERS = {"frozenset": frozenset, "set": set, "tuple": tuple, "list": list, "dict": dict}


@cache
def _assignments(relative: str) -> dict[str, ast.expr]:
    tree = ast.parse((PROJECT / relative).read_text(encoding="utf-8"), filename=relative)
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = value
    return found


@cache
def constant(relative: str, name: str) -> Any:
    """The value of the module-level constant `name` in the file `relative` to the project.

    Its value may be a literal, another such constant by name, a tuple/list/set display with `*`
    unpacking, or frozenset/set/tuple/list/dict of one of these: what a constant list is written as.
    Raises LookupError when the file has no such assignment or its value is anything else: the
    constant moved or changed shape, which a test catches before any user does.
    """
    scope = _assignments(relative)
    if name not in scope:
        raise LookupError(f"{relative}: no module-level {name} = ... (blueprint reads it from there)")
    try:
        return _evaluate(scope[name], scope, relative, {name})
    except (ValueError, TypeError):
        raise LookupError(f"{relative}: {name} is not a constant expression blueprint can read without importing "
                          "(keep it a literal, other constants, and frozenset/tuple/... of them)") from None


def _evaluate(node: ast.expr, scope: dict[str, ast.expr], relative: str, seen: set[str]) -> Any:
    if isinstance(node, ast.Name):
        if node.id not in scope or node.id in seen:
            raise ValueError(node.id)
        return _evaluate(scope[node.id], scope, relative, seen | {node.id})
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items: list[Any] = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                items.extend(_evaluate(element.value, scope, relative, seen))
            else:
                items.append(_evaluate(element, scope, relative, seen))
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _BUILDERS \
            and len(node.args) <= 1 and not node.keywords:
        return _BUILDERS[node.func.id](*(_evaluate(a, scope, relative, seen) for a in node.args))
    return ast.literal_eval(node)
