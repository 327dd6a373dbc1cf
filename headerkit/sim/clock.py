"""Simulated time: integer nanoseconds, so that the same scenario gives the same trace."""

from __future__ import annotations

from typing import Final

NS: Final = 1_000_000_000
"""Nanoseconds in a second."""


def ns(seconds: float) -> int:
    """``seconds`` as integer nanoseconds."""
    return int(seconds * NS)
