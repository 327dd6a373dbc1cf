"""TCP option kinds, one row each: everything headerkit knows about a kind is in its row.

A row gives the kind's number and short name, the length rule (a fixed total length, or a
minimum and a multiple for the value), the value's wire layout (a construct schema, which
builds it), the fast reader of the value bytes, the value's Python shape and the shape the
schema builds, the fields tshark shows for it, and tcpdump's text.  The option walk
(:mod:`headerkit.packet.options`), the builder, the tshark fields, the columnar decoder and
the summaries all read :data:`OPTION_KINDS`; adding a kind is adding a row.

Values (the Python shape, ``TcpOption.value``): MSS, WS -> int; SACK_PERM -> None; SACK ->
tuple of (left, right) edges; TS -> (tsval, tsecr); UTO -> (granularity, timeout); AO ->
(keyid, rnextkeyid, mac); MPTCP -> (subtype, the low four bits after it, the rest); TFO,
MD5 and unknown kinds -> bytes; EXP -> (exid, data).  An option whose length its kind
forbids keeps its value bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import construct as cs

from headerkit.schemas.tcp import (
    EOL,
    EXPERIMENTAL,
    FAST_OPEN,
    FAST_OPEN_EXID,
    MAX_WINDOW_SHIFT,
    MD5_SIGNATURE,
    MPTCP,
    MSS,
    NOP,
    SACK,
    SACK_PERMITTED,
    TCP_AO,
    TIMESTAMPS,
    USER_TIMEOUT,
    WINDOW_SCALE,
)

_U16 = struct.Struct(">H").unpack_from
_U32X2 = struct.Struct(">II").unpack_from
Fields = dict[str, Any]


def no_fields(value: Any, out: Fields) -> None:
    """A kind that fills no tshark field beyond ``tcp.option_kind``."""


def _raw(body: bytes) -> Any:
    return body


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class OptionKind:
    """One option kind (IANA "TCP Option Kind Numbers")."""

    kind: int
    name: str  # tshark's and Wireshark's short label
    rfc: str
    layout: cs.Construct = cs.GreedyBytes  # the value bytes, after kind and length
    length: int | None = None  # the total length every such option has (kind and length in)
    minimum: int = 2  # else: the least total length with a readable value
    multiple: int = 1  # ... and the value's length is a multiple of this
    read: Callable[[bytes], Any] = _raw  # value bytes -> the value's Python shape
    accepts: Callable[[Any], bool] = lambda v: isinstance(v, bytes | bytearray)
    shape: Callable[[Any], Any] = _same  # the Python shape -> what ``layout`` builds
    fields: Callable[[Any, Fields], None] = no_fields  # put the value's tshark fields
    # the value's fixed-width tshark fields: (field, offset in the option, bytes)
    columns: tuple[tuple[str, int, int], ...] = ()
    text: Callable[[Any], str] | None = None  # tcpdump's form of the value
    limit: tuple[str, int] | None = None  # the value's first byte: field name, largest value

    @property
    def single(self) -> bool:
        """EOL and NOP are one byte: no length, no value."""
        return self.kind in (EOL, NOP)

    def fits(self, length: int) -> bool:
        """Whether a total length leaves a value this kind can read."""
        if self.length is not None:
            return length == self.length
        return length >= self.minimum and (length - 2) % self.multiple == 0

    def value(self, body: bytes) -> Any:
        """The value of an option of this kind with value bytes ``body``."""
        return self.read(body) if self.fits(len(body) + 2) else body

    def label(self, value: Any) -> str:
        """tcpdump's text for an option of this kind with ``value``."""
        if self.text is not None and self.accepts(value):
            return self.text(value)
        name = self.name.lower()
        if isinstance(value, bytes | bytearray):
            return f"{name} {bytes(value).hex()}" if value else name
        return f"{name} {value}" if value is not None else name


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_tuple(size: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, tuple | list) and len(v) == size


def _window_scale(v: int, out: Fields) -> None:
    out["tcp.options.wscale.shift"] = v
    out["tcp.options.wscale.multiplier"] = 1 << min(v, MAX_WINDOW_SHIFT)


def _sack(v: tuple[tuple[int, int], ...], out: Fields) -> None:
    out.setdefault("tcp.options.sack_le", []).extend(le for le, _ in v)
    out.setdefault("tcp.options.sack_re", []).extend(re for _, re in v)


def _timestamps(v: tuple[int, int], out: Fields) -> None:
    out["tcp.options.timestamp.tsval"], out["tcp.options.timestamp.tsecr"] = v


def _cookie(v: bytes, out: Fields) -> None:
    if v:
        out["tcp.options.tfo.cookie"] = v.hex()


def _experiment(v: tuple[int, bytes], out: Fields) -> None:
    if v[0] == FAST_OPEN_EXID:  # RFC 7413's experimental form of TFO
        _cookie(v[1], out)


def _mptcp(v: tuple[int, int, bytes], out: Fields) -> None:
    out.setdefault("tcp.options.mptcp.subtype", []).append(v[0])


SACK_BLOCK = cs.Struct("left" / cs.Int32ub, "right" / cs.Int32ub)

_ROWS = (
    OptionKind(EOL, "EOL", "RFC 9293", cs.Pass, text=lambda v: "eol"),
    OptionKind(NOP, "NOP", "RFC 9293", cs.Pass, text=lambda v: "nop"),
    OptionKind(
        MSS,
        "MSS",
        "RFC 9293",
        cs.Int16ub,
        length=4,
        read=lambda b: _U16(b, 0)[0],
        accepts=_is_int,
        fields=lambda v, out: out.__setitem__("tcp.options.mss_val", v),
        columns=(("tcp.options.mss_val", 2, 2),),
        text=lambda v: f"mss {v}",
    ),
    OptionKind(
        WINDOW_SCALE,
        "WS",
        "RFC 7323",
        cs.Int8ub,
        length=3,
        read=lambda b: b[0],
        accepts=_is_int,
        fields=_window_scale,
        columns=(("tcp.options.wscale.shift", 2, 1),),
        text=lambda v: f"wscale {v}",
        limit=("wscale.shift", MAX_WINDOW_SHIFT),
    ),
    OptionKind(
        SACK_PERMITTED,
        "SACK_PERM",
        "RFC 2018",
        cs.Pass,
        length=2,
        read=lambda b: None,
        accepts=lambda v: v is None,
        fields=lambda v, out: out.__setitem__("tcp.options.sack_perm", True),
        text=lambda v: "sackOK",
    ),
    OptionKind(
        SACK,
        "SACK",
        "RFC 2018",
        cs.GreedyRange(SACK_BLOCK),
        multiple=8,
        read=lambda b: tuple(_U32X2(b, i) for i in range(0, len(b), 8)),
        accepts=lambda v: isinstance(v, tuple | list),
        shape=lambda v: [{"left": le, "right": re} for le, re in v],
        fields=_sack,
        text=lambda v: "sack " + " ".join(f"{le}:{re}" for le, re in v),
    ),
    OptionKind(
        TIMESTAMPS,
        "TS",
        "RFC 7323",
        cs.Struct("tsval" / cs.Int32ub, "tsecr" / cs.Int32ub),
        length=10,
        read=lambda b: _U32X2(b, 0),
        accepts=_is_tuple(2),
        shape=lambda v: {"tsval": v[0], "tsecr": v[1]},
        fields=_timestamps,
        columns=(("tcp.options.timestamp.tsval", 2, 4), ("tcp.options.timestamp.tsecr", 6, 4)),
        text=lambda v: f"TS val {v[0]} ecr {v[1]}",
    ),
    OptionKind(
        MD5_SIGNATURE,
        "MD5",
        "RFC 2385",
        cs.Bytes(16),
        length=18,
        accepts=lambda v: isinstance(v, bytes | bytearray) and len(v) == 16,
    ),
    OptionKind(
        USER_TIMEOUT,
        "UTO",
        "RFC 5482",
        cs.BitStruct("granularity" / cs.Flag, "timeout" / cs.BitsInteger(15)),
        length=4,
        read=lambda b: (bool(b[0] >> 7), _U16(b, 0)[0] & 0x7FFF),
        accepts=_is_tuple(2),
        shape=lambda v: {"granularity": bool(v[0]), "timeout": v[1]},
        text=lambda v: f"uto {v[1]}{'min' if v[0] else 's'}",
    ),
    OptionKind(
        TCP_AO,
        "AO",
        "RFC 5925",
        cs.Struct("keyid" / cs.Int8ub, "rnextkeyid" / cs.Int8ub, "mac" / cs.GreedyBytes),
        minimum=4,
        read=lambda b: (b[0], b[1], b[2:]),
        accepts=_is_tuple(3),
        shape=lambda v: {"keyid": v[0], "rnextkeyid": v[1], "mac": v[2]},
    ),
    OptionKind(
        MPTCP,
        "MPTCP",
        "RFC 8684",
        cs.Struct(
            "subtype_bits"
            / cs.BitStruct("subtype" / cs.BitsInteger(4), "bits" / cs.BitsInteger(4)),
            "data" / cs.GreedyBytes,
        ),
        minimum=3,
        read=lambda b: (b[0] >> 4, b[0] & 0xF, b[1:]),
        accepts=_is_tuple(3),
        shape=lambda v: {"subtype_bits": {"subtype": v[0], "bits": v[1]}, "data": v[2]},
        fields=_mptcp,
        text=lambda v: f"mptcp subtype {v[0]}",
    ),
    OptionKind(FAST_OPEN, "TFO", "RFC 7413", fields=_cookie),
    OptionKind(
        EXPERIMENTAL,
        "EXP",
        "RFC 6994",
        cs.Struct("exid" / cs.Int16ub, "data" / cs.GreedyBytes),
        minimum=4,
        read=lambda b: (_U16(b, 0)[0], b[2:]),
        accepts=_is_tuple(2),
        shape=lambda v: {"exid": v[0], "data": v[1]},
        fields=_experiment,
    ),
)

OPTION_KINDS: Mapping[int, OptionKind] = {row.kind: row for row in _ROWS}
OPTION_NAMES = {row.kind: row.name for row in _ROWS}
FIXED_OPTION_LENGTH = {row.kind: row.length for row in _ROWS if row.length is not None}


def option_name(kind: int) -> str:
    """The kind's short name, or ``kind N`` for one the table does not have."""
    row = OPTION_KINDS.get(kind)
    return row.name if row is not None else f"kind {kind}"


def option_value(kind: int, body: bytes) -> Any:
    """The value of one option from the bytes after its kind and length."""
    row = OPTION_KINDS.get(kind)
    return body if row is None else row.value(body)


# The value of each option kind, after its kind and length bytes.
OPTION_VALUE = cs.Switch(
    cs.this.kind, {row.kind: row.layout for row in _ROWS if not row.single}, default=cs.GreedyBytes
)


def _value_length(ctx: cs.Container) -> int:
    return 2 + len(OPTION_VALUE.build(ctx.value, kind=ctx.kind))


# One option: EOL and NOP are a single byte; every other kind is kind, length, value.
TCP_OPTION = cs.Struct(
    "kind" / cs.Int8ub,
    "length" / cs.If(cs.this.kind > NOP, cs.Default(cs.Int8ub, _value_length)),
    "value" / cs.If(cs.this.kind > NOP, cs.FixedSized(cs.this.length - 2, OPTION_VALUE)),
)

# Any option as bytes, for values its kind's schema cannot hold (a length the kind forbids).
TCP_OPTION_RAW = cs.Struct(
    "kind" / cs.Int8ub,
    "length" / cs.Default(cs.Int8ub, lambda ctx: 2 + len(ctx.data)),
    "data" / cs.GreedyBytes,
)

# The option space of a header: options up to and including EOL; what follows EOL is padding.
TCP_OPTIONS = cs.RepeatUntil(lambda opt, lst, ctx: opt.kind == EOL, TCP_OPTION)
