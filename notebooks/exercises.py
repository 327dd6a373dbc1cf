"""Exercises that check themselves, for the notebooks.

Each exercise compares the student's answer with the one the notebook computes from the data
in front of it. Answers stay hidden, so a class can try first: set ``HEADERKIT_ANSWERS=1``
in the environment (or call ``reveal()``) to show them.
"""

from __future__ import annotations

import os
from typing import Any

_shown = os.environ.get("HEADERKIT_ANSWERS") == "1"


def reveal(on: bool = True) -> None:
    """Show the computed answers from now on."""
    global _shown
    _shown = on


def check(label: str, answer: Any, expected: Any) -> bool:
    """Print whether ``answer`` is right; ``None`` means not answered yet."""
    if answer is None:
        hint = f" Answer: {expected!r}" if _shown else " (HEADERKIT_ANSWERS=1 shows the answer)"
        print(f"{label}: your turn.{hint}")
        return False
    right: bool = answer == expected
    verdict = "right" if right else "not yet"
    if not right and _shown:
        verdict += f": the answer is {expected!r}"
    print(f"{label}: {verdict}")
    return right
