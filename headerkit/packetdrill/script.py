"""A packetdrill script as typed values: timed events, and the options and shell lines around them.

A script interleaves system calls the application makes, segments the remote peer injects
(``<``) and segments the local stack must send (``>``), each at a time: absolute (``0.100``),
relative to the previous event (``+.1``), a range (``0.1~0.2``), any time (``*``), or for a
blocking call a start and an end (``+0...0.100``). Sequence numbers in segments are relative
to the sender's initial sequence number, as packetdrill writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias


class TimeKind(Enum):
    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Time:
    """When an event happens; ``end`` closes a range (``~``) or a blocking call (``...``)."""

    kind: TimeKind
    start: float = 0.0
    end: float | None = None
    blocking: bool = False


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One TCP option of a scripted segment: its packetdrill name and values (None: ``*``)."""

    name: str
    values: tuple[int | None, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A scripted segment. ``options`` None is ``<...>``: any options match."""

    flags: str
    seq: int
    end: int
    length: int
    ack: int | None = None
    window: int | None = None
    urgent: int | None = None
    options: tuple[OptionSpec, ...] | None = ()
    ecn: str | None = None  # an IP ECN mark such as ``[ect0]``


# A system-call argument: ``...``, a number, a symbol, a list ``[..]``, a struct ``{..}``,
# symbols or'ed together (``O_RDWR|O_NONBLOCK``) or a string.
class Elided(Enum):
    """packetdrill's ``...``: an argument the script leaves to the runner."""

    ELIDED = "..."


Arg: TypeAlias = "Elided | int | str | list[Arg] | dict[str, Arg] | frozenset[str] | bytes"


@dataclass(frozen=True, slots=True)
class Syscall:
    name: str
    args: tuple[Arg, ...]
    result: int | None  # None: the script does not check the return value
    errno: str | None = None


@dataclass(frozen=True, slots=True)
class Packet:
    inbound: bool
    segment: SegmentSpec


@dataclass(frozen=True, slots=True)
class Shell:
    """A command in backticks: never run, read for the configuration it sets."""

    line: int
    command: str


@dataclass(frozen=True, slots=True)
class Python:
    """Inline Python (``%{ }%``): assertions on the socket's tcp_info."""

    code: str


@dataclass(frozen=True, slots=True)
class Foreign:
    """A line no TCP model can play: another protocol's packet."""

    what: str


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the script's timeline."""

    line: int
    time: Time
    action: Syscall | Packet | Shell | Python | Foreign
    text: str


@dataclass(frozen=True, slots=True)
class Script:
    path: str
    options: dict[str, str]  # --name=value lines
    shell: tuple[Shell, ...]
    events: tuple[Event, ...]
