"""Match a request path to one of the API's resource paths, as API Gateway REST APIs do.

Literal path parts win over {param} parts, and a greedy {name+} part takes the rest of the
path. Path parameters are URL-decoded. The routes are compiled once into a segment tree.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass
class _Node:
    path: str | None = None  # the resource path ending here, if any
    literals: dict[str, "_Node"] = field(default_factory=dict)
    param: tuple[str, "_Node"] | None = None
    greedy: tuple[str, str] | None = None  # (name, resource path) of a {name+} child


class Router:
    def __init__(self, resource_paths: Iterable[str]):
        self._root = _Node()
        for path in resource_paths:
            self._add(path)

    def _add(self, path: str) -> None:
        node = self._root
        parts = [p for p in path.split("/") if p]
        if not parts:
            node.path = path
            return
        for i, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                node.greedy = (part[1:-2], path)
                return
            if part.startswith("{") and part.endswith("}"):
                if node.param is None:
                    node.param = (part[1:-1], _Node())
                node = node.param[1]
            else:
                node = node.literals.setdefault(part, _Node())
        node.path = path

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """(resource path, path parameters) for a path without the stage prefix, or None."""
        parts = [p for p in path.split("/") if p != ""]
        return self._walk(self._root, parts, 0, {})

    def _walk(self, node: _Node, parts: list[str], i: int, params: dict[str, str]) -> tuple[str, dict[str, str]] | None:
        if i == len(parts):
            return (node.path, params) if node.path is not None else None
        part = parts[i]
        child = node.literals.get(unquote(part))
        if child is not None:
            found = self._walk(child, parts, i + 1, params)
            if found:
                return found
        if node.param is not None:
            name, child = node.param
            found = self._walk(child, parts, i + 1, {**params, name: unquote(part)})
            if found:
                return found
        if node.greedy is not None:
            name, resource = node.greedy
            return resource, {**params, name: unquote("/".join(parts[i:]))}
        return None
