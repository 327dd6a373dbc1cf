"""Serial arithmetic on 32-bit TCP sequence numbers (RFC 1982, RFC 9293 section 3.4).

Sequence numbers live on a circle of 2**32 values: ``a`` is "before" ``b`` when going forward
from ``a`` reaches ``b`` in less than half the circle.  These are the comparisons tshark's
``LT_SEQ``/``GT_SEQ`` make; plain ``<`` breaks at the wrap from 2**32 - 1 to 0.
"""

from __future__ import annotations

from typing import Final

MOD: Final = 1 << 32
HALF: Final = 1 << 31


def add(a: int, n: int) -> int:
    """``a + n`` on the circle."""
    return (a + n) % MOD


def diff(a: int, b: int) -> int:
    """The signed distance from ``b`` to ``a``, in ``[-2**31, 2**31)``: ``a - b`` on the circle."""
    return (a - b + HALF) % MOD - HALF


def lt(a: int, b: int) -> bool:
    """``a`` comes before ``b``."""
    return diff(a, b) < 0


def le(a: int, b: int) -> bool:
    return diff(a, b) <= 0


def gt(a: int, b: int) -> bool:
    return diff(a, b) > 0


def ge(a: int, b: int) -> bool:
    return diff(a, b) >= 0


def unwrap(seq: int, base: int, base_offset: int) -> int:
    """The 64-bit stream offset of ``seq``, given that ``base`` is at ``base_offset``.

    The nearest such offset wins, so any sequence number within 2**31 of ``base`` maps
    correctly across any number of wraps.
    """
    return base_offset + diff(seq, base)


def nearest(seq: int, offset: int) -> int:
    """The stream offset nearest ``offset`` whose number on the wire is ``seq``."""
    return offset + diff(seq, offset)


def wrap(offset: int) -> int:
    """A stream offset (an unbounded count from any base) as the 32-bit number on the wire."""
    return offset % MOD


def latest(a: int, b: int) -> int:
    """The later of ``a`` and ``b`` on the circle."""
    return b if lt(a, b) else a
