"""YAML documents the loader tests and the CLI tests share (no blueprint import, so either runs anywhere)."""
from __future__ import annotations


def billion_laughs(levels: int = 9) -> str:
    """Nine levels of nine aliases: about 200 bytes that expand to 9**9 (387 million) scalars."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"
