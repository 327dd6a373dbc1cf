"""A checked filter evaluated on one record (a packet's fields by tshark's names).

tshark's rules: a field may occur several times (``ip.addr``, list fields); a comparison
holds when any occurrence satisfies it, except ``!=``, which holds when every occurrence
differs; a comparison with an absent field is false (so ``not`` is not the same as ``!=``).
"""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable, Mapping
from typing import Any

from headerkit.tables.filter import checked as c
from headerkit.tables.filter.fields import EITHER, PROTOCOLS, SET_OR_UNSET, Kind

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def occurrences(record: Mapping[str, Any], field: c.Field) -> list[Any]:
    """Every value the field has in the record (none when it is absent)."""
    names = EITHER.get(field.name, (field.name,))
    found: list[Any] = []
    for name in names:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            found.extend(value)
        elif value is False and field.kind is Kind.BOOLEAN and name not in SET_OR_UNSET:
            continue  # tcp.analysis.* and the like exist only when true
        else:
            found.append(value)
    if field.kind is Kind.ADDRESS:
        found = [ipaddress.ip_address(v) for v in found]
    if field.mask is not None:
        found = [int(v) & field.mask for v in found]
    return found


def evaluate(node: c.Checked, record: Mapping[str, Any]) -> bool:
    if isinstance(node, c.Both):
        return evaluate(node.left, record) and evaluate(node.right, record)
    if isinstance(node, c.Either):
        return evaluate(node.left, record) or evaluate(node.right, record)
    if isinstance(node, c.Not):
        return not evaluate(node.inner, record)
    if isinstance(node, c.Present):
        field = node.field
        if field.name in PROTOCOLS and field.mask is None:
            return record.get(PROTOCOLS[field.name]) is not None
        values = occurrences(record, field)
        return any(values) if field.mask is not None else bool(values)
    left = occurrences(record, node.left)
    if not left:
        return False
    if isinstance(node, c.Compare):
        rights = _right(record, node.right)
        if node.op == "!=":
            return all(not _equal(a, b) for a in left for b in rights) and bool(rights)
        if node.op == "==":
            return any(_equal(a, b) for a in left for b in rights)
        test = _ORDER[node.op]
        return any(_compared(test, a, b) for a in left for b in rights)
    if isinstance(node, c.MemberOf):
        return any(_member(a, m) for a in left for m in node.members)
    if isinstance(node, c.Contains):
        return any(_contains(a, b) for a in left for b in _right(record, node.right))
    return any(node.pattern.search(_bytes(a)) for a in left)


def _right(record: Mapping[str, Any], right: c.Field | c.Const) -> list[Any]:
    return occurrences(record, right) if isinstance(right, c.Field) else [right.value]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(b, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return a in b if a.version == b.version else False
    return bool(a == b)


def _compared(test: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if isinstance(b, ipaddress.IPv4Network | ipaddress.IPv6Network):
        b = b.network_address
    try:
        return test(a, b)
    except TypeError:  # an IPv4 address against an IPv6 one
        return False


def _member(value: Any, member: c.Const | c.Span) -> bool:
    if isinstance(member, c.Span):
        return bool(member.low <= value <= member.high)
    return _equal(value, member.value)


def _contains(haystack: Any, needle: Any) -> bool:
    return _bytes(needle) in _bytes(haystack)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()
