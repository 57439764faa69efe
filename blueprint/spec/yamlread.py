"""Read one YAML document into plain data and the file:line of every key path, refusing what YAML would bend.

The document is built from the parser's events in one loop with an explicit stack, never by PyYAML's
recursive composer (which a 5,000-deep document overflows, and a 100,000-deep one crashes in C). So
every limit is checked as the document is read, with the line that broke it:
  - nesting deeper than MAX_DEPTH (no spec needs more than 4 levels);
  - aliases that would copy in more than MAX_ALIAS_NODES nodes (a "billion laughs" document is a few
    hundred bytes that expand to billions of nodes), and an alias inside the node it names;
  - a second document, an alias to no anchor, a duplicate key, a key that is a list or a map;
  - what a scalar means: blueprint.spec.scalars (keys that are not text, values YAML 1.1 and 1.2
    read differently, tags no spec value takes).
Every step is constant work per event (an alias: per node it copies), so reading is linear in the file.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

from blueprint.errors import UserError
from blueprint.spec import scalars
from blueprint.spec.scalars import Refused

# A path through the spec: ("table", "read_capacity") or ("api", "routes", 0, "path").
KeyPath = tuple[Any, ...]

MAX_DEPTH = 32  # levels of maps and lists; the spec itself needs 4 (api.routes[].methods[])
MAX_ALIAS_NODES = 10_000  # nodes that aliases may copy in; a whole spec has a few hundred

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COLLECTION_TAGS = {None, "!", f"{scalars.TAG}map", f"{scalars.TAG}seq"}


@dataclass(frozen=True)
class Location:
    file: str  # relative to the project root, as a person would type it
    line: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class SpecErrors(UserError):
    """All the problems of one or more specs, one per line, each already `FILE:LINE: ...`."""

    prefix = ""

    def __init__(self, problems: list[str]):
        self.problems = problems
        n = len(problems)
        super().__init__("\n".join(problems) + f"\n{n} problem{'s' if n != 1 else ''} in the spec; nothing was written.")


def dotted(path: KeyPath) -> str:
    """A key path as a person writes it: `api.routes[0].path`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class _Anchor:
    value: Any = None
    entries: list[tuple[KeyPath, Location]] = field(default_factory=list)  # relative paths below it
    nodes: int = 1
    depth: int = 0  # levels of maps and lists below (and including) it
    done: bool = False


@dataclass
class _Open:
    """A map or list being read."""

    value: Any
    is_map: bool
    path: KeyPath
    anchor: str | None
    first_entry: int  # index in the entries list where this node's subtree starts
    nodes_before: int
    key: Any = None
    has_key: bool = False  # a map's key was read, its value not yet
    depth_below: int = 1


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.entries: list[tuple[KeyPath, Location]] = []
        self.locations: dict[int, Location] = {}  # one Location per line
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Open] = []
        self.nodes = 0
        self.copied = 0
        self.root: Any = None
        self.documents = 0

    def fail(self, line: int, path: KeyPath, text: str) -> SpecErrors:
        shown = dotted(path[:6]) + "..." if len(path) > 8 else dotted(path)
        return SpecErrors([f"{self.file}:{line}: {shown or '(top level)'}: {text}"])

    def _at(self, line: int) -> Location:
        loc = self.locations.get(line)
        if loc is None:
            loc = self.locations[line] = Location(self.file, line)
        return loc

    def _next_path(self) -> KeyPath:
        """The key path of the value that comes next (for a map: its key is read already)."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        return top.path + (top.key,) if top.is_map else top.path + (len(top.value),)

    def _slot(self, line: int) -> KeyPath:
        """The key path of the value that starts now, recording where it is (a map's value: at its key)."""
        if not self.stack:
            self.entries.append(((), self._at(line)))
            return ()
        top = self.stack[-1]
        if top.is_map:
            return top.path + (top.key,)
        path = top.path + (len(top.value),)
        self.entries.append((path, self._at(line)))
        return path

    def _place(self, value: Any) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if top.is_map:
            top.value[top.key] = value
            top.has_key = False
        else:
            top.value.append(value)

    def _expects_key(self) -> bool:
        return bool(self.stack) and self.stack[-1].is_map and not self.stack[-1].has_key

    def _key(self, key: Any, line: int, text: str) -> None:
        top = self.stack[-1]
        if not isinstance(key, str):
            raise self.fail(line, top.path + (text,), f"the alias {text} names {scalars.described(key)}, not text "
                                                      "(allowed: a plain name)")
        path = top.path + (key,)
        if key in top.value:
            first = next(loc for p, loc in reversed(self.entries) if p == path)
            raise self.fail(line, path, f"duplicate key (first set at line {first.line}; keep one)")
        self.entries.append((path, self._at(line)))
        top.key, top.has_key = key, True

    # -- events --------------------------------------------------------------------------------

    def scalar(self, event: yaml.ScalarEvent) -> None:
        line = event.start_mark.line + 1
        self.nodes += 1
        is_key = self._expects_key()
        try:
            value = scalars.key(event) if is_key else scalars.value(event)
        except Refused as exc:
            where = self.stack[-1].path + (event.value,) if is_key else self._next_path()
            raise self.fail(line, where, str(exc)) from None
        if is_key:
            self._key(value, line, event.value)
        else:
            self._slot(line)
            self._place(value)
        if event.anchor:
            self.anchors[event.anchor] = _Anchor(value=value, done=True)

    def start(self, event: yaml.CollectionStartEvent, is_map: bool) -> None:
        line = event.start_mark.line + 1
        if self._expects_key():
            raise self.fail(line, self.stack[-1].path, "a key must be a plain name, not a list or a map")
        if event.tag not in _COLLECTION_TAGS:
            raise self.fail(line, self._next_path(), f"the tag {scalars.short(event.tag)} makes a value no spec key "
                                                     "takes (allowed: plain YAML maps and lists)")
        if len(self.stack) + 1 > MAX_DEPTH:
            raise self.fail(line, self._next_path(), f"nested deeper than {MAX_DEPTH} levels of maps and lists "
                                                     "(a spec needs at most 4; is an indentation or a bracket off?)")
        self.nodes += 1
        path = self._slot(line)
        self.stack.append(_Open({} if is_map else [], is_map, path, event.anchor, len(self.entries), self.nodes))
        if event.anchor:
            self.anchors[event.anchor] = _Anchor()  # not done: an alias to it now would be inside it

    def end(self) -> None:
        node = self.stack.pop()
        if self.stack:
            self.stack[-1].depth_below = max(self.stack[-1].depth_below, node.depth_below + 1)
        self._place(node.value)
        if node.anchor:
            n = len(node.path)
            self.anchors[node.anchor] = _Anchor(
                value=node.value, entries=[(p[n:], loc) for p, loc in self.entries[node.first_entry:]],
                nodes=self.nodes - node.nodes_before + 1, depth=node.depth_below, done=True)

    def alias(self, event: yaml.AliasEvent) -> None:
        line = event.start_mark.line + 1
        name = event.anchor
        anchor = self.anchors.get(name)
        is_key = self._expects_key()
        where = self.stack[-1].path if is_key else self._next_path()
        if anchor is None:
            raise self.fail(line, where, f"*{name} refers to no anchor &{name} above it (define the anchor first)")
        if not anchor.done:
            raise self.fail(line, where, f"*{name} is inside the node &{name} names: a recursive alias "
                                         "(a spec is a tree; write the value out)")
        self.copied += anchor.nodes
        if self.copied > MAX_ALIAS_NODES:
            raise self.fail(line, where, f"aliases copy in more than {MAX_ALIAS_NODES} nodes (an alias bomb?) "
                                         "(allowed: a few aliases of small values; write big values out)")
        if len(self.stack) + anchor.depth > MAX_DEPTH:
            raise self.fail(line, where, f"*{name} nests deeper than {MAX_DEPTH} levels of maps and lists "
                                         "(a spec needs at most 4)")
        if is_key:
            self._key(anchor.value, line, f"*{name}")
            return
        path = self._slot(line)
        self.entries.extend((path + p, loc) for p, loc in anchor.entries)
        if self.stack:
            self.stack[-1].depth_below = max(self.stack[-1].depth_below, anchor.depth + 1)
        self.nodes += anchor.nodes
        self._place(copy.deepcopy(anchor.value))  # a copy: no value is shared between two key paths


def parse_yaml(text: str, file: str) -> tuple[Any, dict[KeyPath, Location]]:
    """Parse one YAML document into plain data and the location of every key path in it."""
    reader = _Reader(file)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.ScalarEvent):
                reader.scalar(event)
            elif isinstance(event, yaml.MappingStartEvent):
                reader.start(event, True)
            elif isinstance(event, yaml.SequenceStartEvent):
                reader.start(event, False)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                reader.end()
            elif isinstance(event, yaml.AliasEvent):
                reader.alias(event)
            elif isinstance(event, yaml.DocumentStartEvent):
                reader.documents += 1
                if reader.documents > 1:
                    raise SpecErrors([f"{file}:{event.start_mark.line + 1}: (top level): a second YAML document "
                                      "('---') (allowed: one map per spec file)"])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SpecErrors([f"{file}:{line}: invalid YAML: {exc.problem or exc.context} (fix the syntax at that line)"]) from None
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1 if isinstance(exc.position, int) else 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise SpecErrors([f"{file}:{line}: invalid YAML: the character {char} is not allowed ({exc.reason}; "
                          "write it as an escape in double quotes, e.g. \"\\t\")"]) from None
    except yaml.YAMLError as exc:
        raise SpecErrors([f"{file}:1: invalid YAML: {str(exc).splitlines()[0]} (fix the syntax)"]) from None
    except UnicodeEncodeError as exc:
        raise SpecErrors([f"{file}:1: not UTF-8 text ({exc.reason} at character {exc.start})"]) from None
    if not reader.entries:
        return None, {(): Location(file, 1)}
    locations: dict[KeyPath, Location] = {}
    for path, loc in reader.entries:
        locations.setdefault(path, loc)
    return reader.root, locations
