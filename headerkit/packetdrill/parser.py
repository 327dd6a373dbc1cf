"""packetdrill's script language, read by a lark grammar into typed script values.

The file is first cut into statements (comments dropped, backtick blocks kept as shell
lines, ``--option=value`` lines, and events that may run over several lines while a bracket
is open); each event is then parsed by the grammar below. A line the grammar does not accept
raises :class:`~headerkit.errors.ScriptError` with its line and column.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import lark

from headerkit.errors import ScriptError
from headerkit.packetdrill.script import (
    Arg,
    Elided,
    Event,
    Foreign,
    OptionSpec,
    Packet,
    Python,
    Script,
    SegmentSpec,
    Shell,
    Syscall,
    Time,
    TimeKind,
)

GRAMMAR = r"""
?start: event
event: time action

time: "*"                        -> any_time
    | TIME "..." TIME            -> blocking_time
    | TIME ("~" TIME)?           -> point_time

?action: "<" segment             -> inbound
       | ">" segment             -> outbound
       | "<" OTHER               -> other_packet
       | ">" OTHER               -> other_packet
       | syscall
       | SHELL                   -> timed_shell
       | PYTHON                  -> python

segment: ECN? FLAGS SEQ ack? win? urg? options?
ack: "ack" INT
win: "win" INT
urg: "urg" INT
options: "<" "..." ">"           -> any_options
       | "<" option ("," option)* ">"
option: OPTNAME optarg*
?optarg: INT                     -> number
       | "*"                     -> wildcard
       | BLOCK                   -> block
       | "val"                   -> keyword
       | "ecr"                   -> keyword
       | HEXBYTES                -> hexbytes
       | OPTNAME                 -> keyword

syscall: NAME "(" [arg ("," arg)*] ")" "=" result
result: (SIGNED_INT | HEX) ERRNO? ERRTEXT?
      | "..."                    -> unchecked
?arg: "..."                      -> elided
    | SIGNED_INT                 -> number
    | HEX                        -> hex
    | NAME ("|" NAME)+           -> flags
    | NAME                       -> symbol
    | ESCAPED_STRING             -> string
    | "[" [arg ("," arg)*] "]"   -> array
    | "{" [field ("," field)*] "}" -> struct
field: NAME ("(" (INT | "...") ")")? "=" arg
     | arg                       -> positional_field

TIME: /\+?(\d+(\.\d+)?|\.\d+)/
FLAGS: /[SFRPEWU.-]+/
SEQ: /\d+:\d+\(\d+\)/
BLOCK.2: /\d+:\d+/
OPTNAME: /[A-Za-z][A-Za-z0-9_-]*/
HEXBYTES: /(?=[0-9a-f]*[a-f])[0-9a-f]{4,}/
HEX.2: /0x[0-9a-fA-F]+/
ECN: /\[[a-z0-9-]+\]/
OTHER.2: /(icmp|udp|GRE|gre|mpls|ipv4|ipv6)\b[^\n]*/
SHELL: /`[^`]*`/
PYTHON: /%\{.*\}%/s
ERRNO: /E[A-Z0-9]+/
ERRTEXT: /\([^)]*\)/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%import common.INT
%import common.SIGNED_INT
%import common.ESCAPED_STRING
%import common.WS
%ignore WS
"""


@cache
def _parser() -> lark.Lark:
    """The grammar's LALR parser, building script values as it reduces (no tree pass)."""
    return lark.Lark(
        GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False, transformer=_Build()
    )


def _seconds(text: str) -> tuple[bool, float]:
    return text.startswith("+"), float(text.lstrip("+") or 0)


class _Build(lark.Transformer[lark.Token, object]):
    """Grammar tree -> script values."""

    def any_time(self, _: list[object]) -> Time:
        return Time(TimeKind.ANY)

    def point_time(self, items: list[lark.Token]) -> Time:
        relative, start = _seconds(items[0])
        kind = TimeKind.RELATIVE if relative else TimeKind.ABSOLUTE
        end = _seconds(items[1])[1] if len(items) > 1 else None
        return Time(kind, start, end)

    def blocking_time(self, items: list[lark.Token]) -> Time:
        relative, start = _seconds(items[0])
        kind = TimeKind.RELATIVE if relative else TimeKind.ABSOLUTE
        return Time(kind, start, _seconds(items[1])[1], blocking=True)

    def inbound(self, items: list[SegmentSpec]) -> Packet:
        return Packet(True, items[0])

    def outbound(self, items: list[SegmentSpec]) -> Packet:
        return Packet(False, items[0])

    def other_packet(self, items: list[lark.Token]) -> Foreign:
        return Foreign(f"{str(items[0]).split()[0]} packets")

    def timed_shell(self, items: list[lark.Token]) -> Shell:
        return Shell(items[0].line or 0, str(items[0]).strip("`").strip())

    def python(self, items: list[lark.Token]) -> Python:
        return Python(str(items[0])[2:-2])

    def segment(self, items: list[object]) -> SegmentSpec:
        ecn = None
        if isinstance(items[0], lark.Token) and items[0].type == "ECN":
            ecn, items = str(items[0]).strip("[]"), items[1:]
        flags, seq = str(items[0]), str(items[1])
        start, rest = seq.split(":")
        end, length = rest.rstrip(")").split("(")
        fields: dict[str, object] = {"options": ()}
        for item in items[2:]:
            if isinstance(item, tuple) and item and item[0] in ("ack", "win", "urg"):
                fields[item[0]] = item[1]
            else:
                fields["options"] = item
        return SegmentSpec(
            flags,
            int(start),
            int(end),
            int(length),
            ack=fields.get("ack"),  # type: ignore[arg-type]
            window=fields.get("win"),  # type: ignore[arg-type]
            urgent=fields.get("urg"),  # type: ignore[arg-type]
            options=fields["options"],  # type: ignore[arg-type]
            ecn=ecn,
        )

    def ack(self, items: list[lark.Token]) -> tuple[str, int]:
        return ("ack", int(items[0]))

    def win(self, items: list[lark.Token]) -> tuple[str, int]:
        return ("win", int(items[0]))

    def any_options(self, _: list[object]) -> None:
        return None

    def options(self, items: list[OptionSpec]) -> tuple[OptionSpec, ...]:
        return tuple(items)

    def option(self, items: list[object]) -> OptionSpec:
        values: list[int | None] = []
        for value in items[1:]:
            if isinstance(value, tuple):
                values.extend(value)
            elif value != "keyword":
                values.append(value)  # type: ignore[arg-type]
        return OptionSpec(str(items[0]), tuple(values))

    def number(self, items: list[lark.Token]) -> int:
        return int(items[0])

    def wildcard(self, _: list[object]) -> None:
        return None

    def block(self, items: list[lark.Token]) -> tuple[int, int]:
        left, right = str(items[0]).split(":")
        return int(left), int(right)

    def keyword(self, _: list[object]) -> str:
        return "keyword"

    def hexbytes(self, items: list[lark.Token]) -> int:
        return int(items[0], 16)

    def syscall(self, items: list[object]) -> Syscall:
        name, *args, outcome = items
        assert isinstance(outcome, tuple)
        result: int | None = outcome[0]
        errno: str | None = outcome[1]
        return Syscall(str(name), tuple(args), result, errno)  # type: ignore[arg-type]

    def result(self, items: list[lark.Token]) -> tuple[int, str | None]:
        errno = next((str(t) for t in items[1:] if t.type == "ERRNO"), None)
        return int(items[0], 0), errno

    def unchecked(self, _: list[object]) -> tuple[None, None]:
        return None, None

    def elided(self, _: list[object]) -> Elided:
        return Elided.ELIDED

    def hex(self, items: list[lark.Token]) -> int:
        return int(items[0], 16)

    def flags(self, items: list[lark.Token]) -> frozenset[str]:
        return frozenset(str(t) for t in items)

    def symbol(self, items: list[lark.Token]) -> str:
        return str(items[0])

    def string(self, items: list[lark.Token]) -> bytes:
        return str(items[0])[1:-1].encode()

    def array(self, items: list[Arg]) -> list[Arg]:
        return list(items)

    def struct(self, items: list[tuple[str, Arg] | None]) -> dict[str, Arg]:
        """Named fields by name, positional ones as ``_0``, ``_1``, ..."""
        fields = [item for item in items if item is not None]
        return {name or f"_{i}": value for i, (name, value) in enumerate(fields)}

    def urg(self, items: list[lark.Token]) -> tuple[str, int]:
        return ("urg", int(items[0]))

    def field(self, items: list[object]) -> tuple[str, Arg]:
        return str(items[0]), items[-1]  # type: ignore[return-value]

    def positional_field(self, items: list[Arg]) -> tuple[str, Arg] | None:
        return None if items[0] is Elided.ELIDED else ("", items[0])


_COMMENT = re.compile(r"//|/\*")
_OPTION = re.compile(r"--([a-z_]+)(?:=(\S*))?")
_MAX_SCRIPT = 1 << 20
_SHOWN = 120  # characters of a statement quoted in an error


def parse_script(text: str, path: str = "<script>") -> Script:
    """The script in ``text``; :class:`ScriptError` names the line and column it cannot read.

    Every step is linear in the script's length: no hostile script can make it hang.
    """
    if len(text) > _MAX_SCRIPT:
        raise ScriptError(path, 0, f"script of {len(text)} characters, over {_MAX_SCRIPT}")
    lines = _without_comments(text).split("\n")
    options: dict[str, str] = {}
    shell: list[Shell] = []
    events: list[Event] = []
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].strip()
        index += 1
        if not line:
            continue
        if line.startswith("`"):
            block = [line[1:]]
            while "`" not in block[-1] and index < len(lines):
                block.append(lines[index])
                index += 1
            if "`" not in block[-1]:
                raise ScriptError(path, number, "a shell command in backticks is never closed")
            body = "\n".join(block)
            body = body[: body.index("`")].replace("\\\n", " ")  # continued lines
            for offset, command in enumerate(body.split("\n")):
                if command.strip():
                    shell.append(Shell(number + offset, command.strip()))
            continue
        if line.startswith("--"):
            for match in _OPTION.finditer(line):
                options[match.group(1)] = match.group(2) or ""
            continue
        statement = _Statement(line)
        while statement.open() and index < len(lines):
            statement.add(lines[index].strip())
            index += 1
        events.append(_event(statement.text(), number, path))
    return Script(path, options, tuple(shell), tuple(events))


def _without_comments(text: str) -> str:
    """``text`` with ``//`` and ``/* */`` comments blanked out, keeping the line numbers."""
    pieces: list[str] = []
    at, closes = 0, True
    while match := _COMMENT.search(text, at):
        start = match.start()
        if match.group() == "//":
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
        else:
            end = text.find("*/", start + 2) if closes else -1
            if end < 0:  # never closed (a shell glob such as /tmp/*): plain text
                closes = False
                pieces.append(text[at : start + 2])
                at = start + 2
                continue
            end += 2
        pieces += [text[at:start], re.sub(r"[^\n]", " ", text[start:end])]
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


class _Statement:
    """An event's lines, joined while a backtick, ``%{`` or bracket is open (kept as running
    counts, so a statement of many lines costs its length, not its length squared)."""

    def __init__(self, line: str) -> None:
        self.lines = [line]
        self.ticks = self.depth = 0
        self.python = self.python_closed = False
        self._count(line)

    def _count(self, line: str) -> None:
        self.ticks += line.count("`")
        self.python = self.python or "%{" in line
        self.python_closed = self.python_closed or "}%" in line
        self.depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")

    def open(self) -> bool:
        if self.ticks % 2:
            return True
        if self.python:
            return not self.python_closed
        return self.depth > 0

    def add(self, line: str) -> None:
        self.lines.append(("\n" if self.python else " ") + line)
        self._count(line)

    def text(self) -> str:
        return "".join(self.lines)


def _event(text: str, number: int, path: str) -> Event:
    shown = repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")
    try:
        built = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as err:
        raise ScriptError(
            path, number, f"cannot read {shown} at column {err.column}", column=err.column
        ) from None
    except ValueError as err:  # a value the grammar took but Python cannot (a 5000-digit int)
        raise ScriptError(path, number, f"cannot read {shown}: {err}"[:300]) from None
    assert isinstance(built, lark.Tree)
    time, action = built.children
    return Event(number, time, action, text)  # type: ignore[arg-type]


def read_script(path: str | Path) -> Script:
    """The script in the file at ``path``."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise ScriptError(str(path), 0, f"cannot read the script: {err}") from None
    return parse_script(text, str(path))
