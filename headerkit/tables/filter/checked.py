"""A parsed filter checked against the fields headerkit has: each word resolved to a field
or to a value of that field's kind, so evaluation never meets a surprise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from headerkit.errors import FilterError
from headerkit.tables.filter import syntax as s
from headerkit.tables.filter.fields import (
    EITHER,
    KINDS,
    PROTOCOLS,
    UNFILTERABLE,
    Kind,
    known,
    value,
)

_MIRRORED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: Kind
    mask: int | None = None  # ``field & mask``


@dataclass(frozen=True, slots=True)
class Const:
    value: Any


@dataclass(frozen=True, slots=True)
class Span:
    """``low..high`` in a set."""

    low: Any
    high: Any


@dataclass(frozen=True, slots=True)
class Compare:
    left: Field
    op: str
    right: Field | Const


@dataclass(frozen=True, slots=True)
class MemberOf:
    left: Field
    members: tuple[Const | Span, ...]


@dataclass(frozen=True, slots=True)
class Contains:
    left: Field
    right: Field | Const


@dataclass(frozen=True, slots=True)
class Matches:
    left: Field
    pattern: re.Pattern[bytes]


@dataclass(frozen=True, slots=True)
class Present:
    """The field is there (a protocol: its header is), or ``field & mask`` is not zero."""

    field: Field


@dataclass(frozen=True, slots=True)
class Not:
    inner: Checked


@dataclass(frozen=True, slots=True)
class Both:
    left: Checked
    right: Checked


@dataclass(frozen=True, slots=True)
class Either:
    left: Checked
    right: Checked


Checked = Compare | MemberOf | Contains | Matches | Present | Not | Both | Either


class _Checker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.fields: set[str] = set()

    def fail(self, column: int, reason: str) -> FilterError:
        return FilterError(self.text, column, reason)

    def node(self, node: s.Node) -> Checked:
        if isinstance(node, s.Not):
            return Not(self.node(node.inner))
        if isinstance(node, s.Both):
            return Both(self.node(node.left), self.node(node.right))
        if isinstance(node, s.Either):
            return Either(self.node(node.left), self.node(node.right))
        if isinstance(node, s.Test):
            return Present(self.field(node.operand, presence=True))
        if isinstance(node, s.Compare):
            left, op, right = node.left, node.op, node.right
            if not self.is_field(left) and self.is_field(right):
                left, op, right = right, _MIRRORED[op], left
            field = self.field(left)
            if op in ("<", "<=", ">", ">=") and field.kind in (Kind.TEXT, Kind.BYTES):
                raise self.fail(_column(left), f"{field.name} cannot be ordered with {op}")
            return Compare(field, op, self.operand(right, field))
        if isinstance(node, s.MemberOf):
            field = self.field(node.left)
            return MemberOf(field, tuple(self.member(m, field) for m in node.members))
        if isinstance(node, s.Contains):
            field = self.field(node.left)
            if field.kind not in (Kind.BYTES, Kind.TEXT):
                raise self.fail(_column(node.left), f"{field.name} holds no bytes or text")
            return Contains(field, self.operand(node.right, field))
        assert isinstance(node, s.Matches)
        field = self.field(node.left)
        if field.kind not in (Kind.BYTES, Kind.TEXT):
            raise self.fail(_column(node.left), f"{field.name} holds no bytes or text")
        try:
            # tshark's "matches" ignores case unless told otherwise
            pattern = re.compile(node.pattern.value.encode(), re.IGNORECASE | re.DOTALL)
        except re.error as err:
            raise self.fail(node.pattern.column, f"not a regular expression: {err}") from None
        return Matches(field, pattern)

    def is_field(self, operand: s.Operand) -> bool:
        return isinstance(operand, s.Masked) or (
            isinstance(operand, s.Word) and known(operand.text)
        )

    def field(self, operand: s.Operand, presence: bool = False) -> Field:
        word = operand.field if isinstance(operand, s.Masked) else operand
        if isinstance(word, s.Text):
            raise self.fail(word.column, "a quoted string where a field name belongs")
        name = word.text
        if name in UNFILTERABLE:
            raise self.fail(word.column, f"{name} is not something headerkit filters on")
        if name in PROTOCOLS and presence:
            self.fields.add(PROTOCOLS[name])
            return Field(name, KINDS.get(name, Kind.INTEGER))
        if name in PROTOCOLS and name not in KINDS:
            raise self.fail(word.column, f"{name} is a protocol: it can only be there or not")
        if name not in KINDS:
            raise self.fail(word.column, f'"{name}" is neither a field nor a protocol name')
        self.fields.update(EITHER.get(name, (name,)))
        kind = KINDS[name]
        if isinstance(operand, s.Masked):
            if kind is not Kind.INTEGER:
                raise self.fail(operand.mask.column, f"{name} is not a number to mask")
            return Field(name, kind, self.literal(operand.mask, Kind.INTEGER))
        return Field(name, kind)

    def operand(self, operand: s.Operand, against: Field) -> Field | Const:
        if self.is_field(operand):
            return self.field(operand)
        assert isinstance(operand, s.Word | s.Text)
        kind = Kind.INTEGER if against.mask is not None else against.kind
        return Const(self.literal(operand, kind))

    def member(self, member: s.Word | s.Text, field: Field) -> Const | Span:
        if isinstance(member, s.Word) and ".." in member.text and field.kind is not Kind.ADDRESS:
            low, _, high = member.text.partition("..")
            first = self.literal(s.Word(low, member.column), field.kind)
            last = self.literal(s.Word(high, member.column), field.kind)
            return Span(first, last)
        return Const(self.literal(member, field.kind))

    def literal(self, word: s.Word | s.Text, kind: Kind) -> Any:
        try:
            return value(
                kind,
                word.text if isinstance(word, s.Word) else word.value,
                isinstance(word, s.Text),
            )
        except ValueError as err:
            raise self.fail(word.column, str(err)) from None


def _column(operand: s.Operand) -> int:
    return operand.field.column if isinstance(operand, s.Masked) else operand.column


def check(text: str) -> tuple[Checked, frozenset[str]]:
    """The checked tree of ``text``, and the fields (columns) it reads."""
    checker = _Checker(text)
    tree = checker.node(s.parse(text))
    return tree, frozenset(checker.fields)
