"""The stage's access log: one line per request in AccessLogSetting.Format, $context.* substituted.

The format is compiled once into literal parts and lookups. A variable with no value prints
"-", as API Gateway writes it.
"""
from __future__ import annotations

import re
import threading
from typing import Any, TextIO

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
# Used when the stage has no AccessLogSetting: API Gateway's CLF-like example format.
DEFAULT_FORMAT = ('$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod '
                  '$context.path $context.protocol" $context.status $context.responseLength $context.requestId')


class AccessLog:
    def __init__(self, fmt: str | None, stream: TextIO | None):
        self.format = fmt or DEFAULT_FORMAT
        self._stream = stream
        self._lock = threading.Lock()
        self._parts: list[str | tuple[str, ...]] = []
        pos = 0
        for m in _VARIABLE.finditer(self.format):
            self._parts.append(self.format[pos:m.start()])
            self._parts.append(tuple(m.group(1).split(".")))
            pos = m.end()
        self._parts.append(self.format[pos:])
        # Flush every line to a file (tail -f works) but let a terminal's line buffering do it.
        self._flush = stream is not None and not getattr(stream, "isatty", lambda: False)()

    def line(self, context: dict[str, Any]) -> str:
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value: Any = context
            for name in part:
                value = value.get(name) if isinstance(value, dict) else None
            out.append("-" if value is None or value == "" else str(value))
        return "".join(out)

    def write(self, context: dict[str, Any]) -> None:
        if self._stream is None:
            return
        text = self.line(context) + "\n"
        with self._lock:
            self._stream.write(text)
            if self._flush:
                self._stream.flush()
