"""pcapng block layouts (draft-ietf-opsawg-pcapng).

Every block is ``block_type``, ``block_total_length``, a body, and ``block_total_length``
again.  On build both lengths are rebuilt from the body, data and option values are padded
to 32 bits, and each option's length is rebuilt from its value.  A section's byte order is
the one its Section Header Block's byte-order magic reads correctly in, so every schema
comes in both orders.
"""

from __future__ import annotations

from typing import Any

import construct as cs

from headerkit.schemas.pcap import ByteOrder

SHB_TYPE = 0x0A0D0D0A  # Section Header Block (a palindrome: reads the same in both orders)
IDB_TYPE = 0x00000001  # Interface Description Block
PB_TYPE = 0x00000002  # Packet Block (obsolete)
SPB_TYPE = 0x00000003  # Simple Packet Block
EPB_TYPE = 0x00000006  # Enhanced Packet Block
CB_TYPE = 0x00000BAD  # Custom Block that may be copied
CB_NO_COPY_TYPE = 0x40000BAD  # Custom Block that must not be copied
# Blocks the specification defines that carry no packets: a reader passes over them.
NRB_TYPE = 0x00000004  # Name Resolution Block
ISB_TYPE = 0x00000005  # Interface Statistics Block
IRIG_TYPE = 0x00000007  # IRIG Timestamp Block
ARINC_TYPE = 0x00000008  # ARINC 429 in AFDX Encapsulation Information Block
SJE_TYPE = 0x00000009  # systemd Journal Export Block
DSB_TYPE = 0x0000000A  # Decryption Secrets Block
OTHER_TYPES = frozenset({NRB_TYPE, ISB_TYPE, IRIG_TYPE, ARINC_TYPE, SJE_TYPE, DSB_TYPE})
LOCAL_USE = 0x80000000  # the bit that marks block types reserved for local use

BYTE_ORDER_MAGIC = 0x1A2B3C4D
BLOCK_OVERHEAD = 12  # block_type, block_total_length and its trailing copy

# Option codes headerkit reads or writes; strings are UTF-8, cut at a NUL as wiretap does.
OPT_ENDOFOPT = 0
OPT_COMMENT = 1
SHB_USERAPPL = 4
IF_NAME = 2
IF_TSRESOL = 9  # one byte: bit 7 clear, units of 10**-n s; set, 2**-n s
IF_TSOFFSET = 14  # signed 64-bit seconds added to every timestamp


def byte_order_of(byte_order_magic: bytes) -> ByteOrder | None:
    """The byte order of a section whose SHB holds these four magic bytes, or None."""
    for order in ("little", "big"):
        if int.from_bytes(byte_order_magic, order) == BYTE_ORDER_MAGIC:
            return order
    return None


def _ints(order: ByteOrder) -> tuple[Any, Any, Any]:
    if order == "little":
        return cs.Int16ul, cs.Int32ul, cs.Int64sl
    return cs.Int16ub, cs.Int32ub, cs.Int64sb


def _pad32(length_field: str) -> cs.Padding:
    """Zero bytes up to the next 32-bit boundary after a field of ``length_field`` bytes."""
    return cs.Padding(lambda ctx: -ctx[length_field] % 4)


def _option(order: ByteOrder) -> cs.Struct:
    u16, _, _ = _ints(order)
    return cs.Struct(
        "option_code" / u16,
        "option_length" / cs.Rebuild(u16, cs.len_(cs.this.option_value)),
        "option_value" / cs.Bytes(cs.this.option_length),
        _pad32("option_length"),
    )


def _block(order: ByteOrder, block_type: int | None, body: cs.Construct) -> cs.Struct:
    """A whole block: the body framed by its type and both copies of its total length."""
    _, u32, _ = _ints(order)

    def total_length(ctx: Any) -> int:
        return BLOCK_OVERHEAD + len(body.build(ctx.body))

    return cs.Struct(
        "block_type" / (u32 if block_type is None else cs.Const(block_type, u32)),
        "block_total_length" / cs.Rebuild(u32, total_length),
        "body" / cs.FixedSized(cs.this.block_total_length - BLOCK_OVERHEAD, body),
        "block_total_length_trailer" / cs.Rebuild(u32, cs.this.block_total_length),
        cs.Check(cs.this.block_total_length_trailer == cs.this.block_total_length),
    )


def _packet_fields(order: ByteOrder) -> list[Any]:
    """Timestamp, lengths, data and options: the tail shared by the EPB and the old PB."""
    _, u32, _ = _ints(order)
    return [
        "timestamp_upper" / u32,
        "timestamp_lower" / u32,
        "captured_packet_length" / cs.Rebuild(u32, cs.len_(cs.this.packet_data)),
        "original_packet_length" / u32,
        "packet_data" / cs.Bytes(cs.this.captured_packet_length),
        _pad32("captured_packet_length"),
        "options" / cs.GreedyRange(_option(order)),
    ]


def _blocks(order: ByteOrder) -> dict[int | None, cs.Struct]:
    u16, u32, s64 = _ints(order)
    options = "options" / cs.GreedyRange(_option(order))
    section_header = cs.Struct(
        "byte_order_magic" / cs.Const(BYTE_ORDER_MAGIC, u32),
        "major_version" / cs.Default(u16, 1),
        "minor_version" / cs.Default(u16, 0),
        "section_length" / cs.Default(s64, -1),  # -1: not specified
        options,
    )
    interface_description = cs.Struct(
        "linktype" / u16,
        "reserved" / cs.Default(u16, 0),
        "snaplen" / u32,  # 0: no limit
        options,
    )
    enhanced_packet = cs.Struct("interface_id" / u32, *_packet_fields(order))
    packet = cs.Struct("interface_id" / u16, "drops_count" / u16, *_packet_fields(order))
    simple_packet = cs.Struct(
        "original_packet_length" / u32,
        "packet_data" / cs.Aligned(4, cs.GreedyBytes),  # captured length is implicit
    )
    # Only the enterprise knows where its data ends and any options begin.
    custom = cs.Struct(
        "private_enterprise_number" / u32, "custom_data" / cs.Aligned(4, cs.GreedyBytes)
    )
    return {
        SHB_TYPE: _block(order, SHB_TYPE, section_header),
        IDB_TYPE: _block(order, IDB_TYPE, interface_description),
        PB_TYPE: _block(order, PB_TYPE, packet),
        SPB_TYPE: _block(order, SPB_TYPE, simple_packet),
        EPB_TYPE: _block(order, EPB_TYPE, enhanced_packet),
        CB_TYPE: _block(order, CB_TYPE, custom),
        CB_NO_COPY_TYPE: _block(order, CB_NO_COPY_TYPE, custom),
        None: _block(order, None, cs.GreedyBytes),  # any block, body left as bytes
    }


BLOCKS: dict[ByteOrder, dict[int | None, cs.Struct]] = {o: _blocks(o) for o in ("little", "big")}
OPTION: dict[ByteOrder, cs.Struct] = {o: _option(o) for o in ("little", "big")}
IF_TSOFFSET_VALUE: dict[ByteOrder, cs.Construct] = {"little": cs.Int64sl, "big": cs.Int64sb}
