"""Classic pcap file layout: the file header and the per-record header.

Field names follow wiretap (``incl_len``, ``orig_len``) and pcap-savefile(5) /
draft-ietf-opsawg-pcap for the link-type word.  A file is written in the byte order of the
host that wrote it; the magic number tells which, so every schema comes in both orders.
"""

from __future__ import annotations

from typing import Any, Literal

import construct as cs

ByteOrder = Literal["little", "big"]

MAGIC_MICROSECONDS = 0xA1B2C3D4
MAGIC_NANOSECONDS = 0xA1B23C4D

FILE_HEADER_SIZE = 24


def byte_order_of(magic: bytes) -> ByteOrder | None:
    """The byte order a pcap file's first four bytes announce, or None if not a pcap magic."""
    for order in ("little", "big"):
        if int.from_bytes(magic, order) in (MAGIC_MICROSECONDS, MAGIC_NANOSECONDS):
            return order
    return None


def _ints(order: ByteOrder) -> tuple[Any, Any, Any]:
    if order == "little":
        return cs.Int16ul, cs.Int32ul, cs.Int32sl
    return cs.Int16ub, cs.Int32ub, cs.Int32sb


def _file_header(order: ByteOrder) -> cs.Struct:
    u16, u32, s32 = _ints(order)
    # LinkType and additional information, most significant bit first (pcap-savefile(5)).
    link_info = cs.BitStruct(
        "fcs_len" / cs.Default(cs.BitsInteger(4), 0),  # in 16-bit units, if fcs_len_present
        "reserved_r" / cs.Default(cs.BitsInteger(1), 0),
        "fcs_len_present" / cs.Default(cs.Flag, False),
        "reserved3" / cs.Default(cs.BitsInteger(10), 0),
        "linktype" / cs.BitsInteger(16),
    )
    return cs.Struct(
        "magic_number" / cs.OneOf(u32, (MAGIC_MICROSECONDS, MAGIC_NANOSECONDS)),
        "version_major" / cs.Default(u16, 2),
        "version_minor" / cs.Default(u16, 4),
        "reserved1" / cs.Default(s32, 0),  # formerly thiszone
        "reserved2" / cs.Default(u32, 0),  # formerly sigfigs
        "snaplen" / u32,
        "link_info" / (cs.ByteSwapped(link_info) if order == "little" else link_info),
    )


def _record(order: ByteOrder) -> cs.Struct:
    _, u32, _ = _ints(order)
    return cs.Struct(
        "ts_sec" / u32,
        "ts_usec" / u32,  # microseconds, or nanoseconds under MAGIC_NANOSECONDS
        "incl_len" / cs.Rebuild(u32, cs.len_(cs.this.packet_data)),
        "orig_len" / u32,
        "packet_data" / cs.Bytes(cs.this.incl_len),
    )


FILE_HEADER: dict[ByteOrder, cs.Struct] = {o: _file_header(o) for o in ("little", "big")}
RECORD: dict[ByteOrder, cs.Struct] = {o: _record(o) for o in ("little", "big")}


def field_at(schema: cs.Struct, offset: int) -> tuple[str, int]:
    """The name and start offset of the field of ``schema`` that holds byte ``offset``.

    Fields are walked in order; the first one whose size depends on the data holds every
    offset from its start on.
    """
    start = 0
    for sub in schema.subcons:
        try:
            end = start + sub.sizeof()
        except cs.SizeofError:
            return sub.name, start
        if offset < end:
            return sub.name, start
        start = end
    raise ValueError(f"offset {offset} is past the end of the schema")
