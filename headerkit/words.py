"""Counts in running text: ``counted(1, "recv() result")`` is "1 recv() result"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, the noun in the plural (``noun + "s"`` unless given) unless n is 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
