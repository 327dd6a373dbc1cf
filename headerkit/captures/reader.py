"""Stream the records of a pcap or pcapng file in bounded memory.

The file is read front to back in chunks.  Every length field is checked against a bound
before anything of that size is read, so a hostile or damaged file costs at most one chunk
plus one maximal record.  Damage is reported -- strictly raised; leniently warned
(:class:`~headerkit.errors.HeaderkitWarning`) and kept in :attr:`CaptureReader.damage` --
and a lenient reader goes on wherever the file lets it: past a pcapng block whose contents
are damaged (a packet naming a missing interface is still yielded, with the problem and no
link type), and past a block whose framing is damaged to the next block that frames
correctly.  A pcap file, whose records have no trailer to resynchronise on, ends at the last
whole record.

Per-record headers are unpacked with ``struct`` formats derived from the construct schemas
in :mod:`headerkit.schemas.pcap` and :mod:`headerkit.schemas.pcapng`.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from math import gcd
from typing import BinaryIO, Literal

from headerkit.captures.files import OwnedFile, Source
from headerkit.captures.record import Record
from headerkit.errors import CaptureFileError, CaptureTruncatedError, HeaderkitWarning
from headerkit.schemas import pcap as pcap_schema
from headerkit.schemas import pcapng as ng
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.linktypes import NO_INTERFACE
from headerkit.schemas.pcap import ByteOrder, field_at

CHUNK_SIZE = 1 << 20
NS_PER_S = 1_000_000_000

# wiretap's largest record per link type (wtap_max_snaplen_for_encap, Wireshark 4.0):
# D-Bus and the USB link types 128 MiB, EBHSCR 8 MiB, every other link type 256 KiB.
MAX_SNAPLEN_STANDARD = 262_144
_MAX_SNAPLEN_LARGE = {231: 128 << 20, 279: 8 << 20} | dict.fromkeys(
    (186, 189, 220, 249, 266), 128 << 20
)
# Record.linktype (and Record.interface) of a pcapng Custom Block's data, which wiretap and
# so tshark count as a frame; not a LINKTYPE_ value.
CUSTOM_BLOCK = -1
# wiretap's largest pcapng block: a minimal EPB, the largest record and 128 KiB of options.
MAX_BLOCK_SIZE = 32 + (128 << 20) + 131_072
# Interfaces kept per file: every IDB costs memory, so a file of nothing else must not
# grow without bound (real captures describe tens or hundreds).
MAX_INTERFACES = 1 << 16
# How far past damaged pcapng framing the reader looks for the next intact block.
RESYNC_SPAN = 1 << 20


def max_snaplen(linktype: int) -> int:
    """The longest record wiretap accepts for ``linktype`` (262144 for most link types)."""
    return _MAX_SNAPLEN_LARGE.get(linktype, MAX_SNAPLEN_STANDARD)


@dataclass(frozen=True, slots=True)
class Interface:
    """A capture interface: a pcapng Interface Description Block, or a pcap file header.

    ``snaplen`` 0 means no limit.  ``tsresol`` is if_tsresol as stored: with bit 7 clear
    timestamps count 10**-n seconds, with it set 2**-n seconds (6: microseconds, the
    pcapng default, which the reader fills in; 9: nanoseconds, the default here).
    ``tsoffset`` (if_tsoffset) is added to every timestamp, in seconds.  ``section``
    numbers the pcapng section the interface belongs to, from 0.
    """

    linktype: int
    snaplen: int = 0
    name: str | None = None
    tsresol: int = 9
    tsoffset: int = 0
    section: int = 0

    def ns_scale(self) -> tuple[int, int]:
        """``(multiplier, divisor)`` turning timestamps in this interface's units into ns."""
        exponent = self.tsresol & 0x7F
        units = 2**exponent if self.tsresol & 0x80 else 10**exponent
        common = gcd(units, NS_PER_S)
        return NS_PER_S // common, units // common


class _Window:
    """The unread part of a file: ``buf`` holds the bytes from file offset ``base`` on."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.buf = b""
        self.base = 0

    def refill(self, pos: int, need: int) -> int:
        """Drop ``buf[:pos]`` and read until ``need`` bytes are buffered or the file ends.

        Returns the new position of the old ``buf[pos]`` (0).
        """
        parts = [self.buf[pos:]]
        have = len(parts[0])
        want = max(need, CHUNK_SIZE)
        while have < need:
            data = self.file.read(want - have)
            if not data:
                break
            parts.append(data)
            have += len(data)
        self.base += pos
        self.buf = b"".join(parts)
        return 0


@dataclass(slots=True)
class _Port:
    """What an EPB needs to know about the interface it names."""

    index: int  # in CaptureReader.interfaces
    linktype: int
    snaplen: int
    limit: int
    multiplier: int
    divisor: int
    offset_ns: int


class _Section:
    """The byte order and interfaces of one pcapng section."""

    def __init__(self, order: ByteOrder, index: int) -> None:
        self.order = order
        self.index = index
        self.prefix = _PREFIXES[order]
        self.option = _OPTION_PREFIX[order]
        self.ports: list[_Port] = []


_PREFIXES = {o: {t: FixedLayout(b) for t, b in ng.BLOCKS[o].items()} for o in ("little", "big")}
_OPTION_PREFIX = {o: FixedLayout(ng.OPTION[o]) for o in ("little", "big")}
# the smallest total length of each block type: its fixed fields and the trailing length
_MIN_BLOCK = {t: p.size + 4 for t, p in _PREFIXES["little"].items()}
_SHB_BYTES = ng.SHB_TYPE.to_bytes(4, "little")
_GENERIC_BLOCK = ng.BLOCKS["little"][None]
_PACKET_TYPES = (ng.EPB_TYPE, ng.SPB_TYPE, ng.PB_TYPE)
# The bytes of every block type a resynchronising reader accepts, in either byte order.
_KNOWN_TYPE_BYTES = re.compile(
    b"|".join(
        re.escape(block_type.to_bytes(4, order))
        for block_type in sorted({*ng.OTHER_TYPES, *(k for k in _MIN_BLOCK if k is not None)})
        for order in ("little", "big")
    )
)
_CUSTOM_TYPES = (ng.CB_TYPE, ng.CB_NO_COPY_TYPE)
# The interface of a packet whose interface the section does not describe: no link type,
# microsecond timestamps (pcapng's default), wiretap's usual record limit.
_NO_PORT = _Port(NO_INTERFACE, NO_INTERFACE, 0, MAX_SNAPLEN_STANDARD, 1000, 1, 0)
_RECORD = pcap_schema.RECORD
_RECORD_PREFIX = {o: FixedLayout(_RECORD[o]) for o in ("little", "big")}


class CaptureReader(OwnedFile):
    """An iterator of the :class:`Record` s of a pcap or pcapng file, in file order.

    ``format`` is "pcap" or "pcapng"; ``interfaces`` lists the interfaces met so far
    (``Record.interface`` indexes it, across all pcapng sections); ``linktype`` is the
    first interface's link type; ``damage`` is None or the :class:`CaptureFileError`
    that stopped a lenient reader.  A path is opened here and closed when the records end
    or on :meth:`close`; a file object passed in is left open.
    """

    format: Literal["pcap", "pcapng"]

    def __init__(self, source: Source, *, strict: bool = False) -> None:
        self.strict = strict
        self.interfaces: list[Interface] = []
        self.damage: CaptureFileError | None = None
        self._number = 0
        self._block = 0  # pcapng blocks framed so far, for the reports
        self._latest_section: _Section | None = None
        super().__init__(source, "rb")
        self._window = _Window(self._file)
        self._window.refill(0, CHUNK_SIZE)
        magic = self._window.buf[:4]
        order = pcap_schema.byte_order_of(magic)
        self._stream: Iterator[Record]
        if magic == _SHB_BYTES:
            self.format = "pcapng"
            walker = self._walk_pcapng()
            first = next(walker, None)  # reads up to the first IDB and packet
            self._stream = walker if first is None else itertools.chain((first,), walker)
        elif order is not None:
            self.format = "pcap"
            self._stream = self._open_pcap(order)
        else:
            damage = self.decompression_damage
            self.close()
            reason = damage or f"not a pcap or pcapng file (starts {magic.hex()})"
            raise CaptureFileError("pcap", "magic_number", 0, reason)
        if self._decompressing is not None:
            self._stream = self._reporting_decompression(self._stream)

    def _reporting_decompression(self, records: Iterator[Record]) -> Iterator[Record]:
        """``records``, then a report if they ended because the compressed data did."""
        yield from records
        damage = self.decompression_damage
        if damage is not None and (self.damage is None or damage not in str(self.damage)):
            end = self._window.base + len(self._window.buf)
            self._damage("compressed_data", end, damage, truncated=True)

    @property
    def linktype(self) -> int | None:
        """The link type of the first interface, or None before any is known."""
        return self.interfaces[0].linktype if self.interfaces else None

    def __iter__(self) -> Iterator[Record]:
        return self._stream  # the generator itself: no per-record method call

    def __next__(self) -> Record:
        return next(self._stream)

    def _damage(
        self, field: str, offset: int, reason: str, *, truncated: bool = False
    ) -> CaptureFileError:
        """Report damage: raise it if strict, else record it, warn and return it."""
        kind = CaptureTruncatedError if truncated else CaptureFileError
        if self.format == "pcapng" and self._block:
            reason = f"block {self._block}: {reason}"
        damage = self.decompression_damage
        if truncated and damage is not None and damage not in reason:
            reason = f"{reason}: {damage}"
        error = kind(self.format, field, offset, reason)
        if self.strict:
            raise error
        self.damage = error
        warnings.warn(str(error), HeaderkitWarning, stacklevel=2)
        return error

    def _truncated(self, schema: object, start: int, have: int, what: str) -> None:
        field, at = field_at(schema, have)
        self._damage(field, start + at, f"file ends {have} bytes into the {what}", truncated=True)

    # -- pcap ---------------------------------------------------------------------------

    def _open_pcap(self, order: ByteOrder) -> Iterator[Record]:
        """Read the file header; return the stream of records that follows it."""
        schema = pcap_schema.FILE_HEADER[order]
        buf = self._window.buf
        if len(buf) < pcap_schema.FILE_HEADER_SIZE:
            self._truncated(schema, 0, len(buf), "file header")
            self.close()
            return iter(())
        header = schema.parse(buf[: pcap_schema.FILE_HEADER_SIZE])
        nanoseconds = header.magic_number == pcap_schema.MAGIC_NANOSECONDS
        linktype = header.link_info.linktype
        self.interfaces.append(Interface(linktype, header.snaplen, tsresol=9 if nanoseconds else 6))
        major, minor = header.version_major, header.version_minor
        if major < 2:
            self._damage("version_major", 4, f"pcap version {major}.{minor} is not supported")
            self.close()
            return iter(())
        reserved = header.link_info.reserved3 << 16  # bits 16-25, as wiretap checks them
        if reserved:
            # wiretap refuses such a file whole: the bits may mean something it cannot read
            reason = f"network type reserved field not zero (0x{reserved:08x})"
            self._damage("link_info", 20, reason)
            self.close()
            return iter(())
        # wiretap: before version 2.3 (and in DG/UX's 543.x) the two lengths are swapped;
        # 2.3 files may be either way, so there they are swapped when incl_len > orig_len.
        always_swap = (major == 2 and minor < 3) or major == 543
        fix_lengths = always_swap or (major, minor) == (2, 3)
        limit = max_snaplen(linktype)
        if self.strict and 0 < header.snaplen < limit:
            limit = header.snaplen
        return self._pcap_records(order, nanoseconds, linktype, limit, fix_lengths, always_swap)

    def _pcap_records(
        self,
        order: ByteOrder,
        nanoseconds: bool,
        linktype: int,
        limit: int,
        fix_lengths: bool,
        always_swap: bool,
    ) -> Iterator[Record]:
        # The hot loop: one struct unpack, two bound checks and one slice per record.
        window = self._window
        prefix = _RECORD_PREFIX[order]
        unpack_from = prefix.struct.unpack_from
        size = prefix.size
        scale = 1 if nanoseconds else 1000
        ns_per_s = NS_PER_S
        record = Record
        pos = pcap_schema.FILE_HEADER_SIZE
        buf = window.buf
        buf_len = len(buf)
        number = 0
        try:
            while True:
                data_start = pos + size
                if data_start > buf_len:
                    pos = window.refill(pos, size)
                    buf = window.buf
                    buf_len = len(buf)
                    data_start = size
                    if data_start > buf_len:
                        if buf:
                            self._truncated(_RECORD[order], window.base, buf_len, "record header")
                        return
                ts_sec, ts_frac, incl_len, orig_len = unpack_from(buf, pos)
                if incl_len > limit or fix_lengths:  # one test on the common path
                    if fix_lengths and (always_swap or incl_len > orig_len):
                        incl_len, orig_len = orig_len, incl_len
                    if incl_len > limit:
                        offset = window.base + pos + prefix.offsets["incl_len"]
                        self._pcap_too_long(offset, incl_len, linktype)
                        return
                data_end = data_start + incl_len
                if data_end > buf_len:
                    pos = window.refill(pos, size + incl_len)
                    buf = window.buf
                    buf_len = len(buf)
                    data_start = size
                    data_end = size + incl_len
                    if data_end > buf_len:
                        reason = (
                            f"file ends {buf_len - size} bytes into {incl_len} bytes of packet data"
                        )
                        self._damage("packet_data", window.base + size, reason, truncated=True)
                        return
                number += 1
                yield record(
                    number,
                    ts_sec * ns_per_s + ts_frac * scale,
                    linktype,
                    buf[data_start:data_end],
                    orig_len,
                )
                pos = data_end
        finally:
            self.close()

    def _pcap_too_long(self, offset: int, incl_len: int, linktype: int) -> None:
        if incl_len > max_snaplen(linktype):
            bound = f"the maximum of {max_snaplen(linktype)} for link type {linktype}"
        else:
            bound = f"the snap length {self.interfaces[0].snaplen}"
        self._damage("incl_len", offset, f"{incl_len}-byte record exceeds {bound}")

    # -- pcapng -------------------------------------------------------------------------

    def _walk_pcapng(self) -> Iterator[Record]:
        pos, section = 0, None
        try:
            while (framed := self._frame(pos, section)) is not None:
                pos, block_type, length, section = framed
                buf = self._window.buf
                if block_type in _PACKET_TYPES:
                    record = self._packet(section, block_type, buf, pos, length)
                    if record is not None:
                        yield record
                elif block_type in _CUSTOM_TYPES:
                    yield self._custom(section, buf, pos, length)
                elif block_type in (ng.IDB_TYPE, ng.SHB_TYPE):
                    read = self._interface if block_type == ng.IDB_TYPE else self._section_header
                    if not read(section, buf, pos, length):
                        return
                elif block_type not in ng.OTHER_TYPES and not block_type & ng.LOCAL_USE:
                    reason = f"block {self._block}: unknown type {block_type:#010x}, skipped"
                    notice = CaptureFileError(
                        "pcapng", "block_type", self._window.base + pos, reason
                    )
                    warnings.warn(str(notice), HeaderkitWarning, stacklevel=1)
                pos += length
        finally:
            self.close()

    def _frame(self, pos: int, section: _Section | None) -> tuple[int, int, int, _Section] | None:
        """Buffer the whole block at ``buf[pos]``, its type, length and trailer checked.

        Returns its new position, type, length and section, or None at the end of the file.
        A block whose framing is damaged is reported and passed over: reading goes on at the
        next block that frames correctly (strictly, the report is raised).
        """
        while True:
            framed = self._frame_once(pos, section)
            if not isinstance(framed, int):
                return framed
            section = self._latest_section  # a damaged SHB still names its byte order
            if section is None:
                return None
            resumed = self._next_block(framed, section)
            if resumed is None:
                return None
            pos, section = resumed

    def _frame_once(
        self, pos: int, section: _Section | None
    ) -> tuple[int, int, int, _Section] | int | None:
        """One attempt of :meth:`_frame`: the block, None at the end, or (after reporting its
        damage) the position from which to look for the next block."""
        window = self._window
        if pos + 12 > len(window.buf):
            pos = window.refill(pos, 12)
            if not window.buf:
                return None
        buf = window.buf
        start = window.base + pos
        self._block += 1
        if buf[pos : pos + 4] == _SHB_BYTES:
            new = self._new_section(buf, pos, section)
            if new is None:
                return None if len(buf) - pos < 12 or section is None else pos + 4
            section = self._latest_section = new
        assert section is not None  # the file starts with an SHB
        if len(buf) - pos < 8:
            self._truncated(_GENERIC_BLOCK, start, len(buf) - pos, "block header")
            return None
        block_type, length = section.prefix[None].struct.unpack_from(buf, pos)
        length = self._block_length(block_type, length, start)
        if length is None:
            return pos + 4
        if pos + length > len(buf):
            pos = window.refill(pos, length)
            buf = window.buf
            if length > len(buf):
                reason = f"{length}-byte block runs past the end of the file ({len(buf)} left)"
                self._damage("block_total_length", start + 4, reason, truncated=True)
                return pos + 4
        trailer = int.from_bytes(buf[pos + length - 4 : pos + length], section.order)
        if (trailer if self.strict else trailer + -trailer % 4) != length:
            reason = f"trailing copy {trailer} disagrees with the leading {length}"
            self._damage("block_total_length", start + length - 4, reason)
            return pos + 4
        return pos, block_type, length, section

    def _next_block(self, pos: int, section: _Section) -> tuple[int, _Section] | None:
        """The next position, 4-byte aligned and within :data:`RESYNC_SPAN` bytes, where a
        block of a known type frames correctly (sane length, equal trailing copy).

        Candidates are found by searching for the known block types' bytes (a C-speed scan),
        so passing over damage costs time linear in the bytes passed over."""
        window = self._window
        limit = window.base + pos + RESYNC_SPAN
        while window.base + pos < limit:
            if pos + 12 > len(window.buf):
                pos = window.refill(pos, CHUNK_SIZE)
                if len(window.buf) < 12:
                    return None
            buf = window.buf
            found = _KNOWN_TYPE_BYTES.search(buf, pos)
            if found is None:
                if len(buf) - pos < CHUNK_SIZE:  # the file has no more: nothing follows
                    return None
                pos = len(buf) - 12 - (len(buf) - 12 - pos) % 4
                continue
            at = found.start()
            if (at - pos) % 4:  # not on a block boundary: look on from the next one
                pos = at + 4 - (at - pos) % 4
                continue
            pos = at
            order = section.order
            if buf[pos : pos + 4] == _SHB_BYTES:
                order = ng.byte_order_of(buf[pos + 8 : pos + 12]) or order
            block_type = int.from_bytes(buf[pos : pos + 4], order)
            length = int.from_bytes(buf[pos + 4 : pos + 8], order)
            known = block_type in _MIN_BLOCK or block_type in ng.OTHER_TYPES
            if known and length % 4 == 0 and _MIN_BLOCK.get(block_type, 12) <= length:
                if length <= MAX_BLOCK_SIZE and pos + length > len(window.buf):
                    pos = window.refill(pos, length)
                    buf = window.buf
                end = pos + length
                if end <= len(buf) and int.from_bytes(buf[end - 4 : end], order) == length:
                    return pos, section
            pos += 4
        return None

    def _new_section(self, buf: bytes, pos: int, previous: _Section | None) -> _Section | None:
        """Start the section whose SHB begins at ``buf[pos]``: find its byte order."""
        start = self._window.base + pos
        have = len(buf) - pos
        if have < 12:
            field, at = ("byte_order_magic", 8) if have >= 8 else field_at(_GENERIC_BLOCK, have)
            reason = f"file ends {have} bytes into a Section Header Block"
            self._damage(field, start + at, reason, truncated=True)
            return None
        magic = buf[pos + 8 : pos + 12]
        order = ng.byte_order_of(magic)
        if order is None:
            self._damage("byte_order_magic", start + 8, f"unknown byte-order magic {magic.hex()}")
            return None
        return _Section(order, 0 if previous is None else previous.index + 1)

    def _block_length(self, block_type: int, length: int, start: int) -> int | None:
        """Check a block's total length before anything of that size is read.

        Leniently a length that is not a multiple of 4 is rounded up, as wiretap does for
        writers that left the padding out; the trailing copy is then compared rounded up.
        """
        if not self.strict:
            length += -length % 4
        minimum = _MIN_BLOCK.get(block_type, _MIN_BLOCK[None])
        if length % 4:
            reason = f"{length} is not a multiple of 4"
        elif length < minimum:
            reason = f"{length} is less than the minimum {minimum} for block type {block_type:#x}"
        elif length > MAX_BLOCK_SIZE:
            reason = f"{length} exceeds the maximum block size {MAX_BLOCK_SIZE}"
        else:
            return length
        self._damage("block_total_length", start + 4, reason)
        return None

    def _section_header(self, section: _Section, buf: bytes, pos: int, length: int) -> bool:
        prefix = section.prefix[ng.SHB_TYPE]
        _, _, _, major, minor, _ = prefix.struct.unpack_from(buf, pos)
        if (major, minor) not in ((1, 0), (1, 2)):  # the versions wiretap reads
            field = "major_version" if major != 1 else "minor_version"
            offset = self._window.base + pos + prefix.offsets[field]
            self._damage(field, offset, f"pcapng version {major}.{minor} is not supported")
            return False
        self._options(section, buf, pos + prefix.size, pos + length - 4)
        return True

    def _interface(self, section: _Section, buf: bytes, pos: int, length: int) -> bool:
        prefix = section.prefix[ng.IDB_TYPE]
        _, _, linktype, _, snaplen = prefix.struct.unpack_from(buf, pos)
        if len(self.interfaces) >= MAX_INTERFACES:
            reason = f"more than {MAX_INTERFACES} interfaces"
            self._damage("block_type", self._window.base + pos, reason)
            return False
        options, _ = self._options(section, buf, pos + prefix.size, pos + length - 4)
        name = _text(options[ng.IF_NAME]) if ng.IF_NAME in options else None
        tsresol, tsoffset = 6, 0
        if len(raw := options.get(ng.IF_TSRESOL, b"")) == 1:
            tsresol = raw[0]
        if len(raw := options.get(ng.IF_TSOFFSET, b"")) == 8:
            tsoffset = int(ng.IF_TSOFFSET_VALUE[section.order].parse(raw))
        interface = Interface(linktype, snaplen, name, tsresol, tsoffset, section.index)
        self.interfaces.append(interface)
        limit = max_snaplen(linktype)
        if self.strict and 0 < snaplen < limit:
            limit = snaplen
        multiplier, divisor = interface.ns_scale()
        index = len(self.interfaces) - 1
        port = _Port(index, linktype, snaplen, limit, multiplier, divisor, tsoffset * NS_PER_S)
        section.ports.append(port)
        return True

    def _packet(
        self, section: _Section, block_type: int, buf: bytes, pos: int, length: int
    ) -> Record | None:
        """The record in an EPB, SPB or obsolete PB, or None (after reporting) if damaged."""
        start = self._window.base + pos
        prefix = section.prefix[block_type]
        values = prefix.struct.unpack_from(buf, pos)
        data_start = pos + prefix.size
        options_end = pos + length - 4
        comment = None
        problem: CaptureFileError | None = None
        if block_type == ng.SPB_TYPE:
            if not section.ports:
                reason = "Simple Packet Block before any Interface Description Block"
                self._damage("block_type", start, reason)
                return None
            port = section.ports[0]
            orig_len = values[-1]
            cap_len = min(orig_len, options_end - data_start, port.snaplen or orig_len)
            timestamp_ns = 0  # an SPB has no timestamp
            length_field = "original_packet_length"
        else:
            interface_id = values[2]
            ts_upper, ts_lower, cap_len, orig_len = values[-4:]
            length_field = "captured_packet_length"
            if interface_id >= len(section.ports):
                reason = f"no interface {interface_id}: the section describes {len(section.ports)}"
                problem = self._damage(
                    "interface_id", start + prefix.offsets["interface_id"], reason
                )
                port = _NO_PORT
            else:
                port = section.ports[interface_id]
            padded_end = data_start + cap_len + (-cap_len % 4)
            if padded_end > options_end:
                reason = f"{cap_len} bytes of packet data do not fit in a {length}-byte block"
                self._damage(length_field, start + prefix.offsets[length_field], reason)
                return None
            ticks = ts_upper << 32 | ts_lower
            timestamp_ns = ticks * port.multiplier // port.divisor + port.offset_ns
            if padded_end < options_end:
                options, damaged = self._options(section, buf, padded_end, options_end)
                problem = problem or damaged
                if ng.OPT_COMMENT in options:
                    comment = options[ng.OPT_COMMENT].decode("utf-8", "replace")
        if cap_len > port.limit:
            reason = f"{cap_len}-byte record exceeds the limit {port.limit} for its interface"
            self._damage(length_field, start + prefix.offsets[length_field], reason)
            return None
        self._number += 1
        data = buf[data_start : data_start + cap_len]
        return Record(
            self._number, timestamp_ns, port.linktype, data, orig_len, port.index, comment, problem
        )

    def _custom(self, section: _Section, buf: bytes, pos: int, length: int) -> Record:
        """A Custom Block as tshark shows it: a frame of whatever follows the PEN."""
        data = buf[pos + section.prefix[ng.CB_TYPE].size : pos + length - 4]
        self._number += 1
        return Record(self._number, 0, CUSTOM_BLOCK, data, len(data), CUSTOM_BLOCK)

    def _options(
        self, section: _Section, buf: bytes, pos: int, end: int
    ) -> tuple[dict[int, bytes], CaptureFileError | None]:
        """The options in ``buf[pos:end]`` up to opt_endofopt, and the damage (reported) of
        an option that overruns the block, where reading them stopped.

        Each code maps to its last value, but the opt_comment values, each cut at a NUL as
        wiretap does, are joined by newlines.  What is kept is never more than the block.
        """
        unpack_from = section.option.struct.unpack_from
        options: dict[int, bytes] = {}
        comments: bytearray | None = None
        problem = None
        while pos + 4 <= end:
            code, length = unpack_from(buf, pos)
            if code == ng.OPT_ENDOFOPT:
                break
            value_end = pos + 4 + length
            if value_end > end:
                offset = self._window.base + pos + section.option.offsets["option_length"]
                reason = f"option {code} of {length} bytes runs past the end of its block"
                problem = self._damage("option_length", offset, reason)
                break
            value = buf[pos + 4 : value_end]
            if code != ng.OPT_COMMENT:
                options[code] = value
            elif comments is None:
                comments = bytearray(value.partition(b"\0")[0])
            else:
                comments += b"\n" + value.partition(b"\0")[0]
            pos = value_end + (-length % 4)
        if comments is not None:
            options[ng.OPT_COMMENT] = bytes(comments)
        return options, problem


def _text(value: bytes) -> str:
    """An option's UTF-8 string, cut at the first NUL as wiretap does."""
    return value.partition(b"\0")[0].decode("utf-8", "replace")


def read_capture(source: Source, *, strict: bool = False) -> CaptureReader:
    """Open a pcap or pcapng file (told apart by its magic) and stream its records.

    ``source`` is a path or a binary file object.  A file that is neither format raises
    :class:`CaptureFileError`; damage further on is reported as :class:`CaptureReader` says.
    """
    return CaptureReader(source, strict=strict)
