"""The subset of Velocity (VTL) that API Gateway mapping templates in this project use.

Supported, compiled once when the template is loaded:
  #set($name = expr)          also dotted targets: $context.responseOverride.header.X-Y = expr
  #if(cond) / #elseif(cond) / #else / #end
  text lines with $ref, ${ref} and $!ref (quiet) references
  expressions: "strings" (with $references interpolated), 'strings', numbers, true/false/null,
               $references with .property,
               .method(args) and ["key"] steps, == != < > <= >=, && || ! and parentheses

Anything else is refused at load time with the line it is on, rather than rendered wrongly
per request. A line holding only a directive produces no output, as in Velocity.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


class VtlError(ValueError):
    """A mapping template this subset cannot run; the message names the line."""


_DIRECTIVE = re.compile(r"^\s*#(set|if|elseif|else|end)\b\s*(.*?)\s*$", re.S)
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!(),=\[\]])
  | (?P<ref>\$!?\{?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<dot>\.[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<word>[A-Za-z_]+)
""", re.X)
# A reference inside a text line: $a.b.c, $a.get("x"), ${a.b}, $!a
_TEXT_REF = re.compile(r"\$(!?)(\{)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\((?:[^()\"']|\"[^\"]*\"|'[^']*')*\))?)*)(?(2)\})")

Scope = dict[str, Any]
Expr = Callable[[Scope], Any]


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    """Recursive descent over one directive's tokens; produces closures over a scope dict."""

    def __init__(self, text: str, line: int):
        self.line = line
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m:
                raise VtlError(f"line {line}: cannot read {text[pos:pos + 20]!r}")
            if m.lastgroup != "ws":
                self.tokens.append((m.lastgroup or "", m.group()))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise VtlError(f"line {self.line}: expected {value or 'more'}, found {tok[1] if tok else 'the end'}")
        self.i += 1
        return tok

    def done(self) -> None:
        if self.peek() is not None:
            raise VtlError(f"line {self.line}: unexpected {self.peek()[1]!r}")  # type: ignore[index]

    # cond := and ('||' and)* ; and := not ('&&' not)* ; not := '!' not | cmp ; cmp := value (op value)?
    def condition(self) -> Expr:
        left = self._and()
        while self.peek() and self.peek()[1] == "||":  # type: ignore[index]
            self.take()
            right, prev = self._and(), left
            left = lambda s, a=prev, b=right: bool(a(s)) or bool(b(s))  # noqa: E731
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self.peek() and self.peek()[1] == "&&":  # type: ignore[index]
            self.take()
            right, prev = self._not(), left
            left = lambda s, a=prev, b=right: bool(a(s)) and bool(b(s))  # noqa: E731
        return left

    def _not(self) -> Expr:
        if self.peek() and self.peek()[1] == "!":  # type: ignore[index]
            self.take()
            inner = self._not()
            return lambda s: not _truthy(inner(s))
        return self._compare()

    def _compare(self) -> Expr:
        left = self.value()
        tok = self.peek()
        ops = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
               ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}
        if tok and tok[1] in ops:
            self.take()
            right, op = self.value(), ops[tok[1]]
            return lambda s: _safe_compare(op, left(s), right(s))
        return lambda s: _truthy(left(s))

    def value(self) -> Expr:
        kind, text = self.take()
        if kind == "str":
            literal = _unquote(text)
            if text[0] == '"' and "$" in literal:
                # Velocity interpolates double-quoted strings: "$!origin" is "" when $origin is null.
                return _compile_text(literal, self.line)
            return lambda s: literal
        if kind == "num":
            number = float(text) if "." in text else int(text)
            return lambda s: number
        if kind == "word" and text in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[text]
            return lambda s: constant
        if text == "(":
            inner = self.condition()
            self.take(")")
            return inner
        if kind == "ref":
            return self.reference(text)
        raise VtlError(f"line {self.line}: unexpected {text!r}")

    def reference(self, head: str) -> Expr:
        braced = "{" in head
        name = head.lstrip("$!{")
        steps: list[tuple[str, Any]] = []
        while self.peek() and (self.peek()[0] == "dot" or self.peek()[1] == "["):  # type: ignore[index]
            kind, text = self.take()
            if text == "[":
                steps.append(("index", self.value()))
                self.take("]")
                continue
            attr = text[1:]
            if self.peek() and self.peek()[1] == "(":  # type: ignore[index]
                self.take("(")
                args: list[Expr] = []
                while self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                    args.append(self.value())
                    if self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                        self.take()
                self.take(")")
                steps.append(("call", (attr, args)))
            else:
                steps.append(("attr", attr))
        if braced:
            self.take("}") if self.peek() and self.peek()[1] == "}" else None  # type: ignore[index]
        return _compile_ref(name, steps)

    def target(self) -> list[str]:
        """The left side of #set: a dotted path whose last names may hold '-' (header names)."""
        kind, text = self.take()
        if kind != "ref":
            raise VtlError(f"line {self.line}: #set needs a $reference on the left, found {text!r}")
        path = [text.lstrip("$!{")]
        while self.peek() and self.peek()[0] == "dot":  # type: ignore[index]
            path.append(self.take()[1][1:])
        return path


def _truthy(value: Any) -> bool:
    return value is not None and value is not False and value != ""


def _safe_compare(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    try:
        return bool(op(a, b))
    except TypeError:  # Velocity compares unlike types as unequal rather than failing
        return False


def _step(value: Any, kind: str, arg: Any, scope: Scope) -> Any:
    if value is None:
        return None
    if kind == "attr":
        if isinstance(value, Mapping):
            return value.get(arg)
        getter = getattr(value, "get", None)
        return getter(arg) if callable(getter) else getattr(value, arg, None)
    if kind == "index":
        key = arg(scope)
        try:
            return value[key]
        except (KeyError, IndexError, TypeError):
            return None
    name, args = arg
    values = [a(scope) for a in args]
    if isinstance(value, Mapping) and name == "get" and len(values) == 1:
        return value.get(values[0])
    if isinstance(value, Mapping) and name in ("containsKey",) and len(values) == 1:
        return values[0] in value
    method = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
    if not callable(method):
        return None
    return method(*values)


def _compile_ref(name: str, steps: list[tuple[str, Any]]) -> Expr:
    def evaluate(scope: Scope) -> Any:
        value = scope.get(name)
        for kind, arg in steps:
            value = _step(value, kind, arg, scope)
        return value
    return evaluate


def _assign(scope: Scope, path: list[str], value: Any) -> None:
    if len(path) == 1:
        scope[path[0]] = value
        return
    node = scope.setdefault(path[0], {})
    for name in path[1:-1]:
        if not isinstance(node, dict):
            return
        node = node.setdefault(name, {})
    if isinstance(node, dict):
        node[path[-1]] = value


def _to_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _compile_text(line: str, line_no: int) -> Callable[[Scope], str]:
    parts: list[str | Expr] = []
    pos = 0
    for m in _TEXT_REF.finditer(line):
        parts.append(line[pos:m.start()])
        quiet, ref_src = m.group(1) == "!", m.group(3)
        parser = _Parser("$" + ref_src, line_no)
        expr = parser.value()
        parser.done()
        literal = m.group()
        parts.append(lambda s, e=expr, q=quiet, lit=literal: (
            ("" if q else lit) if (v := e(s)) is None else _to_text(v)))
        pos = m.end()
    parts.append(line[pos:])
    return lambda s: "".join(p if isinstance(p, str) else p(s) for p in parts)


class Template:
    """A compiled mapping template. render(scope) runs it; #set changes land in the scope."""

    def __init__(self, source: str):
        self.source = source
        self._program = self._compile(source)

    @staticmethod
    def _compile(source: str) -> list[Any]:
        # Program: list of ("text", fn) | ("set", path, expr) | ("if", [(cond, block)...], else_block)
        root: list[Any] = []
        stack: list[tuple[list[Any], list[tuple[Expr | None, list[Any]]]]] = []
        current = root
        lines = source.split("\n")
        for number, line in enumerate(lines, start=1):
            m = _DIRECTIVE.match(line)
            if m is None:
                if "#" in line and re.search(r"(^|[^\\])#(set|if|elseif|else|end|foreach|macro|define)\b", line):
                    raise VtlError(f"line {number}: a directive must be alone on its line here: {line.strip()!r}")
                if number == len(lines) and line == "":
                    continue  # the newline that ends the last line
                current.append(("text", _compile_text(line, number), number < len(lines)))
                continue
            word, rest = m.group(1), m.group(2)
            if word in ("set", "if", "elseif"):
                if not (rest.startswith("(") and rest.endswith(")")):
                    raise VtlError(f"line {number}: #{word} needs (...)")
                parser = _Parser(rest[1:-1], number)
            if word == "set":
                path = parser.target()
                parser.take("=")
                expr = parser.condition() if parser.peek() and parser.peek()[1] == "!" else parser.value()  # type: ignore[index]
                parser.done()
                current.append(("set", path, expr))
            elif word == "if":
                cond = parser.condition()
                parser.done()
                branches: list[tuple[Expr | None, list[Any]]] = [(cond, [])]
                current.append(("if", branches))
                stack.append((current, branches))
                current = branches[-1][1]
            elif word in ("elseif", "else"):
                if not stack:
                    raise VtlError(f"line {number}: #{word} without #if")
                branches = stack[-1][1]
                if branches[-1][0] is None:
                    raise VtlError(f"line {number}: #{word} after #else")
                cond = None
                if word == "elseif":
                    cond = parser.condition()
                    parser.done()
                branches.append((cond, []))
                current = branches[-1][1]
            else:  # end
                if not stack:
                    raise VtlError(f"line {number}: #end without #if")
                current, _ = stack.pop()
        if stack:
            raise VtlError("an #if has no #end")
        return root

    def render(self, scope: Scope) -> str:
        out: list[str] = []
        self._run(self._program, scope, out)
        return "".join(out)

    def _run(self, program: list[Any], scope: Scope, out: list[str]) -> None:
        for op in program:
            if op[0] == "text":
                out.append(op[1](scope) + ("\n" if op[2] else ""))
            elif op[0] == "set":
                _assign(scope, op[1], op[2](scope))
            else:
                for cond, block in op[1]:
                    if cond is None or cond(scope):
                        self._run(block, scope, out)
                        break
