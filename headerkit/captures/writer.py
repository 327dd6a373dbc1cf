"""Write pcap and pcapng files; every header and block is built by its construct schema."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from typing import Literal

from headerkit.captures.compression import Compression
from headerkit.captures.files import OwnedFile, Source
from headerkit.captures.reader import (
    CUSTOM_BLOCK,
    MAX_SNAPLEN_STANDARD,
    NS_PER_S,
    CaptureReader,
    Interface,
    max_snaplen,
)
from headerkit.captures.record import Record
from headerkit.schemas import pcap as pcap_schema
from headerkit.schemas import pcapng as ng
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.linktypes import LinkType
from headerkit.schemas.pcap import ByteOrder

Target = Source

# A Record keeps a Custom Block's data but not its enterprise number: such records are
# written back under the PEN reserved for documentation (RFC 5612), as not to be copied.
DOCUMENTATION_PEN = 32473


def _fields(
    packet: Record | bytes, timestamp_ns: int | None, wirelen: int | None
) -> tuple[bytes, int, int]:
    """Data, timestamp and wire length of a packet, keyword arguments overriding a Record's."""
    if isinstance(packet, Record):
        data, default_ts, default_len = packet.data, packet.timestamp_ns, packet.wirelen
    else:
        data, default_ts, default_len = bytes(packet), 0, len(packet)
    timestamp_ns = default_ts if timestamp_ns is None else timestamp_ns
    if timestamp_ns < 0:
        raise ValueError(f"timestamp {timestamp_ns} ns is before the epoch")
    return data, timestamp_ns, default_len if wirelen is None else wirelen


def _check_length(data: bytes, linktype: int, snaplen: int) -> None:
    """Refuse data a reader would reject: longer than the snap length or wiretap's maximum."""
    limit = min(snaplen or max_snaplen(linktype), max_snaplen(linktype))
    if len(data) > limit:
        raise ValueError(
            f"{len(data)}-byte packet exceeds the limit {limit} for link type {linktype}"
        )


class PcapWriter(OwnedFile):
    """Write a classic pcap file with one link type (nanosecond timestamps by default)."""

    def __init__(
        self,
        target: Target,
        linktype: int,
        *,
        nanosecond: bool = True,
        snaplen: int = MAX_SNAPLEN_STANDARD,
        byteorder: ByteOrder = "little",
        compress: Compression | None = None,
    ) -> None:
        self.linktype = linktype
        self.nanosecond = nanosecond
        self.snaplen = snaplen
        self._record = pcap_schema.RECORD[byteorder]
        self._header = _record_header(byteorder)
        magic = pcap_schema.MAGIC_NANOSECONDS if nanosecond else pcap_schema.MAGIC_MICROSECONDS
        header = pcap_schema.FILE_HEADER[byteorder].build(
            {"magic_number": magic, "snaplen": snaplen, "link_info": {"linktype": linktype}}
        )
        super().__init__(target, "wb", compress)
        self._file.write(header)

    def write(
        self, packet: Record | bytes, *, timestamp_ns: int | None = None, wirelen: int | None = None
    ) -> None:
        """Append one record; a Record must have the file's link type."""
        if isinstance(packet, Record) and packet.linktype != self.linktype:
            raise ValueError(f"link type {packet.linktype} in a pcap file of {self.linktype}")
        data, timestamp_ns, wirelen = _fields(packet, timestamp_ns, wirelen)
        _check_length(data, self.linktype, self.snaplen)
        seconds, fraction = divmod(timestamp_ns, NS_PER_S)
        if seconds > 0xFFFFFFFF:
            raise ValueError(f"timestamp {timestamp_ns} ns is past what pcap can hold (2106)")
        if not self.nanosecond:
            fraction //= 1000
        fields = {"ts_sec": seconds, "ts_usec": fraction, "orig_len": wirelen}
        header = self._header.pack({**fields, "incl_len": len(data)}, None)
        if header is None:  # a value the header cannot hold: the schema builds it or names it
            self._file.write(self._record.build({**fields, "packet_data": data}))
            return
        self._file.write(header)
        self._file.write(data)


class PcapngWriter(OwnedFile):
    """Write a one-section pcapng file: an SHB, an IDB per interface, then EPBs.

    ``interfaces`` (Interface objects or bare link types) is read as records need it, so it
    may be a list that grows while writing, such as :attr:`CaptureReader.interfaces`.
    Each IDB keeps its interface's if_tsresol and if_tsoffset: nanoseconds unless an
    Interface says otherwise.  A timestamp is rounded up to its interface's resolution,
    so timestamps read from a file at that resolution are written back exactly.
    """

    def __init__(
        self,
        target: Target,
        *,
        interfaces: Sequence[Interface | int] = (LinkType.ETHERNET,),
        byteorder: ByteOrder = "little",
        compress: Compression | None = None,
    ) -> None:
        self.interfaces = interfaces
        self._blocks = ng.BLOCKS[byteorder]
        self._tsoffset = ng.IF_TSOFFSET_VALUE[byteorder]
        self._clocks: list[tuple[int, int, int]] = []  # per IDB written: ns -> units
        super().__init__(target, "wb", compress)
        options = [_option(ng.SHB_USERAPPL, b"headerkit"), _option(ng.OPT_ENDOFOPT, b"")]
        self._file.write(self._blocks[ng.SHB_TYPE].build({"body": {"options": options}}))
        self._describe(len(interfaces))

    def write(
        self,
        packet: Record | bytes,
        *,
        timestamp_ns: int | None = None,
        wirelen: int | None = None,
        interface: int | None = None,
        comment: str | None = None,
    ) -> None:
        """Append one packet as an EPB (a Custom Block's record as a Custom Block).

        Keyword arguments override a Record's fields; a Record's link type must be its
        interface's.  ``comment`` is written as opt_comment.
        """
        record = packet if isinstance(packet, Record) else None
        data, timestamp_ns, wirelen = _fields(packet, timestamp_ns, wirelen)
        if record is not None and record.linktype == CUSTOM_BLOCK:
            body = {"private_enterprise_number": DOCUMENTATION_PEN, "custom_data": data}
            self._file.write(self._blocks[ng.CB_NO_COPY_TYPE].build({"body": body}))
            return
        if interface is None:
            interface = record.interface if record is not None else 0
        if comment is None and record is not None:
            comment = record.comment
        if not 0 <= interface < len(self.interfaces):
            raise ValueError(f"no interface {interface}: {len(self.interfaces)} are described")
        self._describe(interface + 1)
        described = _interface(self.interfaces[interface])
        if record is not None and record.linktype != described.linktype:
            raise ValueError(f"link type {record.linktype} on interface {interface}")
        _check_length(data, described.linktype, described.snaplen)
        multiplier, divisor, offset_ns = self._clocks[interface]
        timestamp = -((offset_ns - timestamp_ns) * divisor // multiplier)  # rounded up
        if not 0 <= timestamp < 1 << 64:
            raise ValueError(f"timestamp {timestamp_ns} ns does not fit interface {interface}")
        options = []
        if comment is not None:
            options = [_option(ng.OPT_COMMENT, comment.encode()), _option(ng.OPT_ENDOFOPT, b"")]
        body = {
            "interface_id": interface,
            "timestamp_upper": timestamp >> 32,
            "timestamp_lower": timestamp & 0xFFFFFFFF,
            "original_packet_length": wirelen,
            "packet_data": data,
            "options": options,
        }
        self._file.write(self._blocks[ng.EPB_TYPE].build({"body": body}))

    def _describe(self, count: int) -> None:
        """Write the IDBs of interfaces up to ``count`` that have none yet."""
        for described in map(_interface, self.interfaces[len(self._clocks) : count]):
            options = [_option(ng.IF_TSRESOL, bytes([described.tsresol]))]
            if described.name is not None:
                options.insert(0, _option(ng.IF_NAME, described.name.encode()))
            if described.tsoffset:
                tsoffset = self._tsoffset.build(described.tsoffset)
                options.append(_option(ng.IF_TSOFFSET, tsoffset))
            options.append(_option(ng.OPT_ENDOFOPT, b""))
            body = {
                "linktype": described.linktype,
                "snaplen": described.snaplen,
                "options": options,
            }
            self._file.write(self._blocks[ng.IDB_TYPE].build({"body": body}))
            self._clocks.append((*described.ns_scale(), described.tsoffset * NS_PER_S))


def _option(code: int, value: bytes) -> dict[str, object]:
    return {"option_code": code, "option_value": value}


def _interface(described: Interface | int) -> Interface:
    return described if isinstance(described, Interface) else Interface(described)


@functools.cache
@functools.cache
def _record_header(order: ByteOrder) -> FixedLayout:
    """The fixed part of the pcap record schema, packed with ``struct``."""
    return FixedLayout(pcap_schema.RECORD[order])


def write_capture(
    target: Target,
    records: Iterable[Record],
    format: Literal["pcap", "pcapng"] = "pcap",
    *,
    linktype: int | None = None,
    interfaces: Sequence[Interface | int] | None = None,
    compress: Compression | None = None,
) -> int:
    """Write ``records`` to a new capture file; return how many were written.

    For pcap the link type is ``linktype``, else that of a CaptureReader passed as
    ``records``, else that of the first record.  For pcapng the interfaces are
    ``interfaces``, else a CaptureReader's; else one is described per distinct
    (``Record.interface``, ``Record.linktype``) in the order met, and records are
    renumbered to match.  ``compress`` (or the file name's extension: ``.gz``, ``.zst``,
    ``.lz4``, ``.xz``, ``.bz2``) compresses the file as it is written.
    """
    count = 0
    if format == "pcap":
        iterator = iter(records)
        first = next(iterator, None)
        if linktype is None:
            linktype = getattr(records, "linktype", None)
        if linktype is None:
            linktype = LinkType.ETHERNET if first is None else first.linktype
        if linktype == CUSTOM_BLOCK:
            raise ValueError("a pcapng Custom Block has no link type for pcap: write pcapng")
        with PcapWriter(target, linktype, compress=compress) as pcap:
            for record in iterator if first is None else itertools.chain((first,), iterator):
                pcap.write(record)
                count += 1
        return count
    if interfaces is None and isinstance(records, CaptureReader):
        interfaces = records.interfaces
    met: list[Interface | int] = []  # without interfaces: one per (interface, link type) met
    numbers: dict[tuple[int, int], int] = {}
    chosen = met if interfaces is None else interfaces
    with PcapngWriter(target, interfaces=chosen, compress=compress) as pcapng:
        for record in records:
            if interfaces is None and record.linktype != CUSTOM_BLOCK:
                number = numbers.setdefault((record.interface, record.linktype), len(met))
                if number == len(met):
                    met.append(record.linktype)
                pcapng.write(record, interface=number)
            else:
                pcapng.write(record)
            count += 1
    return count
