"""tshark's display-filter syntax, read by a lark grammar into a small tree.

What is understood: comparisons ``== != < <= > >=`` and ``eq ne lt le gt ge``; ``and or
not`` and ``&& || !``; parentheses; a field alone (present?); ``field & mask`` (any of the
bits set?, or compared); ``field in {80 443 8000..8080}``; ``contains`` and ``matches``
(``~``) on bytes and text.  Words on the right of an operator are fields when headerkit
knows the name, else values, read by the field's type when the filter is compiled
(``10.0.0.0/8``, ``0x12``, ``47:45:54``, ``fe80::1``).  Nothing is ever ``eval``-ed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import lark

from headerkit.errors import FilterError

GRAMMAR = r"""
?start: or_

?or_: and_ ((OR) and_)*
?and_: not_ ((AND) not_)*
?not_: NOT not_ -> negation
     | atom
?atom: "(" or_ ")"
     | operand CMP operand         -> compare
     | operand IN "{" member+ "}"  -> member_of
     | operand CONTAINS operand    -> contains
     | operand MATCHES STRING      -> matches
     | operand                     -> test

?operand: WORD "&" WORD            -> masked
        | WORD                     -> word
        | STRING                   -> text

?member: WORD ","?
       | STRING ","?

OR.2: /or(?![\w.])/ | "||"
AND.2: /and(?![\w.])/ | "&&"
NOT.2: /not(?![\w.])/ | "!"
IN.2: /in(?![\w.])/
CONTAINS.2: /contains(?![\w.])/
MATCHES.2: /matches(?![\w.])/ | "~"
CMP: "==" | "!=" | "<=" | ">=" | "<" | ">" | /(eq|ne|lt|le|gt|ge)(?![\w.])/
WORD: /[A-Za-z0-9_:][A-Za-z0-9_:.\/\-]*/
STRING: /"(\\.|[^"\\])*"/

%import common.WS
%ignore WS
"""

COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word: a field name or a value, told apart when the filter is compiled."""

    text: str
    column: int


@dataclass(frozen=True, slots=True)
class Text:
    """A quoted string, escapes undone."""

    value: str
    column: int


@dataclass(frozen=True, slots=True)
class Masked:
    """``field & mask``."""

    field: Word
    mask: Word


Operand = Word | Text | Masked


@dataclass(frozen=True, slots=True)
class Compare:
    left: Operand
    op: str  # one of == != < <= > >=
    right: Operand


@dataclass(frozen=True, slots=True)
class MemberOf:
    left: Operand
    members: tuple[Word | Text, ...]


@dataclass(frozen=True, slots=True)
class Contains:
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Matches:
    left: Operand
    pattern: Text


@dataclass(frozen=True, slots=True)
class Test:
    """A field alone: present (or, for ``field & mask``, any of those bits set)."""

    operand: Operand


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node


@dataclass(frozen=True, slots=True)
class Both:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Either:
    left: Node
    right: Node


Node = Compare | MemberOf | Contains | Matches | Test | Not | Both | Either


class _Tree(
    lark.visitors.Transformer_NonRecursive[lark.Token, object]
):  # deep nesting is no recursion
    def word(self, items: list[lark.Token]) -> Word:
        return Word(str(items[0]), items[0].column or 1)

    def text(self, items: list[lark.Token]) -> Text:
        token = items[0]
        return Text(_unquote(str(token)), token.column or 1)

    def masked(self, items: list[lark.Token]) -> Masked:
        field, mask = items
        return Masked(Word(str(field), field.column or 1), Word(str(mask), mask.column or 1))

    def compare(self, items: list[object]) -> Compare:
        left, op, right = items
        symbol = COMPARISONS.get(str(op), str(op))
        assert isinstance(left, Word | Text | Masked) and isinstance(right, Word | Text | Masked)
        return Compare(left, symbol, right)

    def member_of(self, items: list[object]) -> MemberOf:
        left, _, *members = items
        assert isinstance(left, Word | Text | Masked)
        found = tuple(_member(m) for m in members if not (isinstance(m, lark.Token) and m == ","))
        return MemberOf(left, found)

    def contains(self, items: list[object]) -> Contains:
        left, _, right = items
        assert isinstance(left, Word | Text | Masked) and isinstance(right, Word | Text | Masked)
        return Contains(left, right)

    def matches(self, items: list[object]) -> Matches:
        left, _, pattern = items
        assert isinstance(left, Word | Text | Masked) and isinstance(pattern, lark.Token)
        return Matches(left, Text(_unquote(str(pattern)), pattern.column or 1))

    def test(self, items: list[object]) -> Test:
        (operand,) = items
        assert isinstance(operand, Word | Text | Masked)
        return Test(operand)

    def negation(self, items: list[object]) -> Not:
        inner = items[-1]
        assert isinstance(inner, Node)
        return Not(inner)

    def and_(self, items: list[object]) -> Node:
        return _chain(items, Both)

    def or_(self, items: list[object]) -> Node:
        return _chain(items, Either)


def _member(item: object) -> Word | Text:
    if isinstance(item, Word | Text):
        return item
    assert isinstance(item, lark.Token)
    if item.type == "STRING":
        return Text(_unquote(str(item)), item.column or 1)
    return Word(str(item), item.column or 1)


def _chain(items: list[object], kind: type[Both] | type[Either]) -> Node:
    nodes = [i for i in items if isinstance(i, Node)]
    node = nodes[0]
    for other in nodes[1:]:
        node = kind(node, other)
    return node


def _unquote(token: str) -> str:
    body = token[1:-1]
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return body


@cache
def _parser() -> lark.Lark:
    return lark.Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True)


MAX_LENGTH = 4096  # a filter longer than this is refused before it is parsed
MAX_DEPTH = 100  # nor one that nests deeper (evaluation walks the tree recursively)


def _depth(tree: lark.Tree[lark.Token]) -> int:
    """How deep the parse tree is, found without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children if isinstance(child, lark.Tree))
    return deepest


def parse(text: str) -> Node:
    """The tree of a display filter; :class:`FilterError` (with the column) if it is not one."""
    if len(text) > MAX_LENGTH:
        raise FilterError(text[:80], 1, f"a filter is at most {MAX_LENGTH} characters")
    if not text.strip():
        raise FilterError(text, 1, "the filter is empty")
    try:
        tree = _parser().parse(text)
    except lark.UnexpectedCharacters as err:
        raise FilterError(text, err.column, f"unexpected {text[err.column - 1]!r}") from None
    except lark.UnexpectedToken as err:
        end = err.token.type == "$END"
        what = "the end of the filter" if end else repr(str(err.token))
        column = len(text) + 1 if end or not isinstance(err.column, int) else err.column
        raise FilterError(text, column, f"unexpected {what}") from None
    except lark.UnexpectedInput as err:
        raise FilterError(text, getattr(err, "column", 1), "not a display filter") from None
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise FilterError(text, 1, f"the filter nests {depth} deep; at most {MAX_DEPTH}")
    node = _Tree().transform(tree)
    if isinstance(node, Word | Text | Masked):
        node = Test(node)
    assert isinstance(node, Node)
    return node
