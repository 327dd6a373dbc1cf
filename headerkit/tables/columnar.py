"""A capture file to Arrow record batches, decoded a chunk of records at a time with numpy.

The contract: the batches hold exactly what :func:`headerkit.tables.table.record_batches` makes
of :func:`headerkit.captures.decoded.decode_capture`
(tests prove it on the corpus and on generated files).

Classic pcap files are read in large chunks, scanned for record offsets (the one step that
cannot be vectorized, since each record's position depends on the one before) and their
record headers gathered with numpy; other files come through
:class:`~headerkit.captures.CaptureReader`.  The common case -- Ethernet with up to two VLAN
tags, or raw IP; IPv4 without options or IPv6 without extension headers; TCP or UDP wholly
captured and consistent -- is then decoded for every record of the chunk at once: each
header is gathered as a fixed-size record whose field offsets and bit masks come from the
construct schemas (:class:`~headerkit.schemas.layout.FixedLayout`), checksums are summed with
``np.add.reduceat``, and TCP options are walked for all segments in step.  Any other packet
(a problem of any kind, another link type, IP options, extension headers, fragments,
truncation, unusual options) is decoded by :func:`headerkit.packet.decode.decode` and its row put
back in its place.
"""

from __future__ import annotations

import functools
import itertools
import struct
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from headerkit.captures.compression import replay
from headerkit.captures.files import OwnedFile, Source
from headerkit.captures.reader import CaptureReader, max_snaplen
from headerkit.captures.record import Record
from headerkit.errors import CaptureFileError, CaptureTruncatedError, HeaderkitWarning
from headerkit.packet.decode import decode
from headerkit.packet.ip_options import LOOSE_SOURCE_ROUTE, STRICT_SOURCE_ROUTE
from headerkit.packet.layers import ntop
from headerkit.schemas import ipproto, tunnels
from headerkit.schemas import link as link_schema
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.ipv4 import FLAG_MF, IPV4_LAYOUT
from headerkit.schemas.ipv6 import EXTENSION_HEADERS, IPV6_LAYOUT
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.link import ETHERNET_LAYOUT, VLAN_TAG_LAYOUT
from headerkit.schemas.linktypes import LINKTYPE_MASK, RAW_IP, LinkType, linktype_name
from headerkit.schemas.pcap import (
    FILE_HEADER,
    FILE_HEADER_SIZE,
    MAGIC_NANOSECONDS,
    RECORD,
    ByteOrder,
    byte_order_of,
    field_at,
)
from headerkit.schemas.tcp import TCP_LAYOUT
from headerkit.schemas.tcp_options import FIXED_OPTION_LENGTH, OPTION_KINDS, no_fields
from headerkit.schemas.udp import UDP_LAYOUT
from headerkit.tables.fields import BATCH_ROWS, FLAG_COLUMNS, row, schema
from headerkit.tables.registry import header_fields

Arr = npt.NDArray[Any]

CHUNK_BYTES = 16 << 20  # file bytes read and decoded at a time
_GUARD = 64  # spare bytes after a chunk, so fixed-size gathers never run off the buffer
_MAX_TAGS = 2  # VLAN tags the fast path follows
_NS_PER_S = 1_000_000_000
_MAX_NS = 2**63
_FOLD = 0xFFFF  # one's complement sums are taken modulo 2**16 - 1
_SUM_WORDS = 1 << 18  # words of the data summed at a time
_LOW_BYTES = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], np.uint64)  # the first k bytes of a word

# the registry's fields that are a header's leaves as the wire has them (addresses apart:
# they become text): (field, leaf), gathered straight from the header's fixed part
_LEAVES = {
    layer: [
        (f.name, f.attr)
        for f in header_fields(layer)
        if f.get is None and f.attr in layout.names and f.arrow != "str"
    ]
    for layer, layout in (
        ("ip", IPV4_LAYOUT),
        ("ipv6", IPV6_LAYOUT),
        ("tcp", TCP_LAYOUT),
        ("udp", UDP_LAYOUT),
    )
}

# columns that depend on the record alone, the same for a packet decoded either way
_FRAME = ("frame.number", "frame.time", "frame.time_epoch", "frame.len", "frame.cap_len")

# Tunnels (GRE, IP in IP; VXLAN, Geneve, GTP-U): left to the per-packet decoder.
_TUNNEL_PROTOCOLS = [ipproto.IPV4_IN_IP, ipproto.IPV6_IN_IP, ipproto.GRE]
_TUNNEL_PORTS = [tunnels.VXLAN_PORT, tunnels.GENEVE_PORT, tunnels.GTPU_PORT]


# -- records ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Records:
    """Records sharing one buffer: record ``i`` is ``data[start[i]:start[i] + caplen[i]]``."""

    data: Arr
    start: Arr
    caplen: Arr
    wirelen: Arr
    linktype: Arr
    number: Arr
    time_ns: Arr | list[int]  # a list when some timestamp does not fit 64 bits

    def __len__(self) -> int:
        return len(self.start)

    def part(self, lo: int, hi: int) -> _Records:
        return _Records(
            self.data,
            self.start[lo:hi],
            self.caplen[lo:hi],
            self.wirelen[lo:hi],
            self.linktype[lo:hi],
            self.number[lo:hi],
            self.time_ns[lo:hi],
        )


def _pieces(source: Source, chunk_bytes: int) -> Iterator[_Records]:
    """The records of a capture file, a chunk at a time; damage is warned about as the
    :class:`~headerkit.captures.CaptureReader` warns."""
    with OwnedFile(source, "rb") as owned:
        yield from _file_pieces(owned.file, chunk_bytes)


def _file_pieces(file: BinaryIO, chunk_bytes: int) -> Iterator[_Records]:
    """Classic pcap files of the current version by :class:`_PcapScan`; the rest (pcapng,
    versions whose record lengths the reader swaps or refuses, damage in the file header)
    by the reader."""
    head = file.read(FILE_HEADER_SIZE)
    order = byte_order_of(head[:4])
    if order is not None and len(head) == FILE_HEADER_SIZE:
        header = FILE_HEADER[order].parse(head)
        major, minor = header.version_major, header.version_minor
        if (major, minor) >= (2, 4) and major != 543:
            yield from _PcapScan(file, order, header, chunk_bytes).pieces()
            return
    yield from _reader_pieces(replay(head, file), chunk_bytes)


def _reader_pieces(file: BinaryIO, chunk_bytes: int) -> Iterator[_Records]:
    """Records from a :class:`CaptureReader`, joined into buffers of about ``chunk_bytes``."""
    reader = CaptureReader(file)
    records = []
    size = 0
    for record in reader:
        records.append(record)
        size += len(record.data)
        if size >= chunk_bytes or len(records) == BATCH_ROWS:
            yield _joined(records)
            records, size = [], 0
    if records:
        yield _joined(records)


def _joined(records: list[Record]) -> _Records:
    """Records copied into one buffer."""
    caplen = np.array([len(r.data) for r in records], np.int64)
    start = np.cumsum(caplen) - caplen
    data = np.frombuffer(b"".join([r.data for r in records] + [bytes(_GUARD)]), np.uint8)
    times = [r.timestamp_ns for r in records]
    try:
        time_ns: Arr | list[int] = np.array(times, np.int64)
    except OverflowError:
        time_ns = times
    return _Records(
        data,
        start,
        caplen,
        np.array([r.wirelen for r in records], np.int64),
        np.array([r.linktype for r in records], np.int64),
        np.array([r.number for r in records], np.int64),
        time_ns,
    )


class _PcapScan:
    """The records of a classic pcap file, read in chunks of whole records."""

    def __init__(self, file: BinaryIO, order: ByteOrder, header: Any, chunk_bytes: int) -> None:
        self.file = file
        self.order = order
        self.prefix = FixedLayout(RECORD[order])
        self.fields = _prefix_dtype(self.prefix)
        self.linktype: int = header.link_info.linktype
        self.limit = max_snaplen(self.linktype)
        self.scale = 1 if header.magic_number == MAGIC_NANOSECONDS else 1000
        self.buf = np.empty(chunk_bytes + _GUARD, np.uint8)
        self.filled = 0
        self.base = FILE_HEADER_SIZE  # the file offset of buf[0]
        self.number = 1
        self.eof = False

    def pieces(self) -> Iterator[_Records]:
        size = self.prefix.size
        while True:
            self.fill()
            offsets, stop = _scan(self.buf.data, self.filled - size, self.prefix)
            head = _gather(self.buf, offsets, size).view(self.fields)
            incl = head["incl_len"].astype(np.int64)
            over = np.flatnonzero(incl > self.limit)
            whole = int(over[0]) if over.size else len(offsets)
            if whole and offsets[whole - 1] + size + incl[whole - 1] > self.filled:
                whole -= 1  # the last record's data runs past the chunk
            if whole:
                yield self.records(offsets[:whole], head[:whole], incl[:whole])
            if over.size and over[0] == whole:
                self.too_long(int(offsets[whole]), int(incl[whole]))
                return
            cut = whole < len(offsets)  # a record whose data the chunk does not hold
            pos, need = (int(offsets[whole]), size + int(incl[whole])) if cut else (stop, size)
            if self.eof:
                self.truncated(pos, int(incl[whole]) if cut else None)
                return
            self.carry(pos, need)

    def fill(self) -> None:
        """Read until the buffer is full or the file ends."""
        view = self.buf.data
        end = len(self.buf) - _GUARD
        while self.filled < end and not self.eof:
            got = _read_into(self.file, view[self.filled : end])
            self.eof = not got
            self.filled += got

    def carry(self, pos: int, need: int) -> None:
        """Move the bytes from ``pos`` on to the front, growing the buffer to hold ``need``."""
        rest = self.buf[pos : self.filled]
        if need > len(self.buf) - _GUARD:
            self.buf = np.empty(need + _GUARD, np.uint8)
        self.buf[: len(rest)] = rest
        self.base += pos
        self.filled = len(rest)

    def records(self, offsets: Arr, head: Arr, incl: Arr) -> _Records:
        count = len(offsets)
        seconds = head["ts_sec"].astype(np.int64)
        fraction = head["ts_usec"].astype(np.int64)
        self.number += count
        return _Records(
            self.buf,
            offsets + self.prefix.size,
            incl,
            head["orig_len"].astype(np.int64),
            np.full(count, self.linktype, np.int64),
            np.arange(self.number - count, self.number, dtype=np.int64),
            seconds * _NS_PER_S + fraction * self.scale,
        )

    def too_long(self, pos: int, incl_len: int) -> None:
        reason = f"{incl_len}-byte record exceeds the maximum of {self.limit} for link type "
        offset = self.base + pos + self.prefix.offsets["incl_len"]
        _warn(CaptureFileError("pcap", "incl_len", offset, reason + str(self.linktype)))

    def truncated(self, pos: int, incl_len: int | None) -> None:
        """Warn of a file that ends inside the record at ``pos`` (if it does)."""
        have = self.filled - pos
        if incl_len is not None:
            data = have - self.prefix.size
            reason = f"file ends {data} bytes into {incl_len} bytes of packet data"
            offset = self.base + pos + self.prefix.size
            _warn(CaptureTruncatedError("pcap", "packet_data", offset, reason))
        elif have:
            field, at = field_at(RECORD[self.order], have)
            reason = f"file ends {have} bytes into the record header"
            _warn(CaptureTruncatedError("pcap", field, self.base + pos + at, reason))


def _read_into(file: BinaryIO, view: memoryview) -> int:
    """Read into ``view``, by ``readinto`` where the file has it; the bytes read."""
    readinto = getattr(file, "readinto", None)
    if readinto is not None:
        got: int = readinto(view)
        return got
    data = file.read(len(view))
    view[: len(data)] = data
    return len(data)


def _warn(error: CaptureFileError) -> None:
    warnings.warn(str(error), HeaderkitWarning, stacklevel=4)


def _scan(buf: memoryview, stop: int, prefix: FixedLayout) -> tuple[Arr, int]:
    """The offsets of the records whose header starts at or before ``stop``, and the offset
    after the last of them."""
    unpack = struct.Struct(prefix.struct.format[0] + "I").unpack_from
    at = prefix.offsets["incl_len"]
    size = prefix.size
    found: list[int] = []
    append = found.append
    pos = 0
    while pos <= stop:
        append(pos)
        pos += unpack(buf, pos + at)[0] + size
    return np.array(found, np.int64), pos


def _prefix_dtype(prefix: FixedLayout) -> np.dtype[Any]:
    """A pcap record header's fields, in the file's byte order."""
    offsets = list(prefix.offsets.values())
    sizes = [b - a for a, b in itertools.pairwise([*offsets, prefix.size])]
    order = "<" if prefix.struct.format[0] == "<" else ">"
    formats = [f"{order}u{size}" for size in sizes]
    names = list(prefix.names)
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": prefix.size}
    )


# -- fixed-size headers as numpy records ------------------------------------------------


def _gather(data: Arr, at: Arr, width: int) -> Arr:
    """The ``width`` bytes at each offset in ``at``, one void record each."""
    windows = np.ndarray(
        (len(data) - width + 1,), dtype=np.dtype((np.void, width)), buffer=data, strides=(1,)
    )
    return windows[at]


@functools.cache
def _dtype(layout: FixedLayout, base: int, itemsize: int) -> np.dtype[Any]:
    """One big-endian field per leaf of ``layout`` (the bytes holding it), at ``base``."""
    names, formats, offsets = [], [], []
    for (name, _, _), end in zip(layout.bits, layout.ends, strict=True):
        size = end - layout.offsets[name]
        names.append(name)
        formats.append(f">u{size}" if size in (1, 2, 4, 8) else ("u1", (size,)))
        offsets.append(base + layout.offsets[name])
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": itemsize})


class _Header:
    """The fields of ``layout`` in gathered records, as native integers (byte strings as
    ``(n, size)`` uint8 arrays)."""

    def __init__(self, block: Arr, layout: FixedLayout, base: int = 0) -> None:
        self.layout = layout
        self.rec = block.view(_dtype(layout, base, block.dtype.itemsize))
        self.bits = {name: (first, width) for name, first, width in layout.bits}

    def __getitem__(self, name: str) -> Arr:
        raw = self.rec[name]
        if raw.ndim == 2:
            return np.ascontiguousarray(raw)
        first, width = self.bits[name]
        value = raw.astype(raw.dtype.newbyteorder("="))
        shift = raw.dtype.itemsize * 8 - (first - self.layout.offsets[name] * 8) - width
        if shift:
            value >>= shift
        if width < raw.dtype.itemsize * 8:
            value &= (1 << width) - 1
        return value


def _be_words(block: Arr, base: int, count: int) -> Arr:
    """The sum of ``count`` big-endian 16-bit words from ``base`` in each record."""
    dtype = np.dtype(
        {
            "names": ["w"],
            "formats": [(">u2", (count,))],
            "offsets": [base],
            "itemsize": block.dtype.itemsize,
        }
    )
    words: Arr = block.view(dtype)["w"]
    total: Arr = words.sum(axis=1, dtype=np.uint64)
    return total


def _word_sums(data: Arr, lo: Arr, hi: Arr) -> Arr:
    """The sum of the big-endian 16-bit words of each ``data[lo:hi]`` (an odd last byte
    padded with zero), modulo 0xFFFF; the ranges in ascending order.

    The bytes are summed as the aligned little-endian 32-bit words that hold them (2**16 = 1
    modulo 0xFFFF, so a word counts as its two halves), less the bytes of the first word
    before ``lo``, plus those of the last word before ``hi``.  Bytes at odd offsets then weigh
    256 and at even ones 1: the big-endian weights of a range that starts at an odd offset,
    and 256 times them for one that starts at an even offset (256 * 256 = 1 modulo 0xFFFF).
    """
    words = data[: len(data) // 4 * 4].view("<u4")
    first, last = lo // 4, hi // 4
    total = _word_runs(data, first, last)
    total += words[last] & _LOW_BYTES[hi % 4]
    total -= words[first] & _LOW_BYTES[lo % 4]
    total %= _FOLD
    return np.where(lo % 2 == 0, (total << 8) % _FOLD, total)


def _word_runs(data: Arr, first: Arr, last: Arr) -> Arr:
    """The sums of the little-endian 32-bit words ``first[i]`` to ``last[i]`` of ``data``.

    ``np.add.reduceat`` runs three times faster on 64-bit input than on 32-bit words with a
    64-bit accumulator, so the words are widened, :data:`_SUM_WORDS` at a time.
    """
    body = np.zeros(len(first), np.uint64)
    if not len(first):
        return body
    bounds = first[0] + _SUM_WORDS * np.arange(1, (first[-1] - first[0]) // _SUM_WORDS + 1)
    cuts = [0, *np.searchsorted(first, bounds).tolist(), len(first)]
    scratch = np.empty(0, np.uint64)
    for a, b in itertools.pairwise(cuts):
        if a == b:
            continue
        base = int(first[a])
        words = data[base * 4 : (int(last[a:b].max()) + 1) * 4].view("<u4")
        if len(scratch) < len(words):
            scratch = np.empty(max(len(words), _SUM_WORDS * 2), np.uint64)
        wide = scratch[: len(words)]
        np.copyto(wide, words)
        pairs = np.empty(2 * (b - a), np.int64)
        pairs[0::2] = first[a:b] - base
        pairs[1::2] = last[a:b] - base
        body[a:b] = np.add.reduceat(wide, pairs)[0::2]
    body[first >= last] = 0
    return body


def _good(total: Arr) -> Arr:
    """Checksum status from a sum with the checksum in it: 1 (good) when it folds to 0."""
    good: Arr = (total % _FOLD == 0).astype(np.uint8)
    return good


# IPv4 options: the longest header, and the options whose route names the destination
_IPV4_MAX = ((1 << IPV4_LAYOUT.widths["ihl"]) - 1) * 4
_SOURCE_ROUTES = np.array([LOOSE_SOURCE_ROUTE, STRICT_SOURCE_ROUTE])

# -- TCP options ----------------------------------------------------------------------

_FAST_KINDS = (t.SACK, t.SACK_PERMITTED, t.MPTCP, t.FAST_OPEN)
_MPTCP = OPTION_KINDS[t.MPTCP]
_FIXED_LENGTH = np.zeros(256, np.int64)
for _kind, _length in FIXED_OPTION_LENGTH.items():
    _FIXED_LENGTH[_kind] = _length
# the options' value rules: a length multiple (SACK), a largest first value byte (WS)
_MULTIPLES = [(row.kind, row.multiple) for row in OPTION_KINDS.values() if row.multiple > 1]
_LIMITS = [(row.kind, row.limit[1]) for row in OPTION_KINDS.values() if row.limit is not None]
# the columns an option's value fills: (column, offset in the option, size)
_VALUES = {row.kind: row.columns for row in OPTION_KINDS.values() if row.columns}
# kinds whose fields the fast path leaves to the per-packet decoder: those without
# fixed-width columns, but SACK's and MPTCP's lists, SACK_PERM's flag and TFO's cookie
_SLOW_KINDS = np.array(
    [
        row.kind
        for row in OPTION_KINDS.values()
        if row.fields is not no_fields and not row.columns and row.kind not in _FAST_KINDS
    ]
)
# the longest option space: the largest data offset, in 32-bit words, less the fixed header
_DATA_OFFSET_BITS = next(width for name, _, width in TCP_LAYOUT.bits if name == "data_offset")
_OPTION_SPACE = ((1 << _DATA_OFFSET_BITS) - 1) * 4 - TCP_LAYOUT.size


@dataclass(slots=True)
class _Walk:
    """Walked options as tshark lists them: ``kind[i, s]`` is segment ``i``'s option at
    step ``s`` (-1: none), ``length`` its length byte (-1 for EOL and NOP) and ``pos`` its
    offset in the option space.  ``ok`` is False where the per-packet decoder must look."""

    kind: Arr
    length: Arr
    pos: Arr
    ok: Arr


@dataclass(frozen=True, slots=True)
class _Template:
    """An option layout matched whole: its kinds, lengths (-1: none) and offsets."""

    kinds: tuple[int, ...]
    lengths: tuple[int, ...]
    pos: tuple[int, ...]
    size: int

    @classmethod
    def of(cls, *kinds: int) -> _Template:
        lengths = tuple(FIXED_OPTION_LENGTH.get(k, -1) for k in kinds)
        steps = [max(n, 1) for n in lengths]
        pos = tuple(sum(steps[:i]) for i in range(len(kinds)))
        return cls(kinds, lengths, pos, sum(steps))

    def match(self, opt: Arr, end: Arr) -> Arr:
        """The segments whose option space is exactly this layout (a valid one)."""
        hit: Arr = end == self.size
        for kind, length, at in zip(self.kinds, self.lengths, self.pos, strict=True):
            hit &= opt[:, at] == kind
            if length > 0:
                hit &= opt[:, at + 1] == length
            for limited, most in _LIMITS:
                if kind == limited:
                    hit &= opt[:, at + 2] <= most
        return hit


# the layouts most segments carry: timestamps on data and ACKs, and a Linux SYN
_TEMPLATES = (
    _Template.of(t.NOP, t.NOP, t.TIMESTAMPS),
    _Template.of(t.MSS, t.SACK_PERMITTED, t.TIMESTAMPS, t.NOP, t.WINDOW_SCALE),
)


def _walk(opt: Arr, end: Arr) -> _Walk:
    """Walk the option space ``opt[i, :end[i]]`` of every segment in step."""
    m = len(end)
    pos = np.zeros(m, np.int64)
    ok = np.ones(m, bool)
    after_eol = np.zeros(m, bool)
    steps: list[tuple[Arr, Arr, Arr, Arr]] = []
    active: Arr = np.flatnonzero(end > 0)
    last = opt.shape[1] - 1
    while active.size:
        p: Arr = pos[active]
        kind: Arr = opt[active, p].astype(np.int64)
        single: Arr = kind <= t.NOP
        length: Arr = np.where(single, 1, opt[active, np.minimum(p + 1, last)]).astype(np.int64)
        bad = _unlisted(kind, length, opt[active, np.minimum(p + 2, last)], end[active] - p)
        bad |= after_eol[active] & (kind != t.EOL)
        if bad.any():
            ok[active[bad]] = False
            active, kind, length, p, single = (x[~bad] for x in (active, kind, length, p, single))
        steps.append((active, kind, np.where(single, -1, length), p))
        after_eol[active[kind == t.EOL]] = True
        pos[active] += length
        active = active[pos[active] < end[active]]
    kinds, lengths, starts = np.full((3, m, len(steps)), -1, np.int64)
    for s, (rows, kind, length, p) in enumerate(steps):
        keep = ok[rows]
        kinds[rows[keep], s] = kind[keep]
        lengths[rows[keep], s] = length[keep]
        starts[rows[keep], s] = p[keep]
    return _Walk(kinds, lengths, starts, ok)


def _unlisted(kind: Arr, length: Arr, value: Arr, room: Arr) -> Arr:
    """Options the fast path leaves to the per-packet decoder: those it reports a problem
    in (see :func:`headerkit.packet.options.parse_options`), a SACK without blocks (an empty
    list) and the kinds whose columns only it fills."""
    single = kind <= t.NOP
    bad: Arr = ~single & ((room < 2) | (length < 2) | (length > room))
    fixed = _FIXED_LENGTH[kind]
    bad |= (fixed > 0) & (length != fixed)
    for multiple_of, multiple in _MULTIPLES:
        bad |= (kind == multiple_of) & ((length - 2) % multiple != 0)
    bad |= (kind == t.SACK) & (length == 2)  # no blocks: an empty list, the decoder's
    for limited, most in _LIMITS:
        bad |= (kind == limited) & (value > most)
    bad |= np.isin(kind, _SLOW_KINDS)
    return bad


def _be(opt: Arr, rows: Arr, at: Arr | int, size: int) -> Arr:
    """Big-endian integers of ``size`` bytes at ``opt[rows, at]``."""
    value = np.zeros(len(rows), np.uint64)
    for k in range(size):
        value = (value << 8) | opt[rows, at + k]
    return value


# -- the decoder ------------------------------------------------------------------------


class _Decoder:
    """The common case of every record at once; ``slow`` marks the rest.

    Column values are kept as parts: ``(rows, values)`` for scalars, ``(rows, keys)`` for
    addresses (made text on demand) and, for lists, ``(rows, values, mask)`` with a row of
    ``values`` per row (its entries where ``mask``, all if None) or ``(rows, entries, None)``
    with a row per entry, in row order.
    """

    def __init__(self, recs: _Records, checksums: bool) -> None:
        self.r = recs
        n = len(recs)
        self.n = n
        self.checksums = checksums
        self.slow = np.zeros(n, bool)
        self.net = np.zeros(n, np.int64)  # 4 or 6: an IP header at ip_off
        self.ip_off = np.zeros(n, np.int64)
        self.proto = np.full(n, -1, np.int64)  # the transport header at t_off, if any
        self.t_off = np.zeros(n, np.int64)
        self.end = np.zeros(n, np.int64)  # where the IP packet ends
        self.pseudo = np.zeros(n, np.uint64)  # the pseudo-header's addresses, summed
        self.scalars: dict[str, list[tuple[Arr, Arr]]] = defaultdict(list)
        self.texts: dict[str, list[tuple[Arr, Arr]]] = defaultdict(list)
        self.words: dict[str, list[tuple[Arr, list[str]]]] = defaultdict(list)  # made one by one
        self.lists: dict[str, list[tuple[Arr, Arr, Arr | None]]] = defaultdict(list)
        self.bitmaps: dict[tuple[int, ...], tuple[pa.Buffer | None, int, list[Arr]]] = {}
        self.every = np.arange(n)

    def run(self) -> None:
        self.link()
        self.ipv4()
        self.ipv6()
        tcp, tcp_len = self.tcp()
        udp, udp_len, udp_checksum = self.udp()
        if self.checksums:
            self.transport_checksums(tcp, tcp_len, udp, udp_len, udp_checksum == 0)

    def put(self, name: str, rows: Arr, values: Arr) -> None:
        self.scalars[name].append((rows, values))

    def validity(self, parts: Sequence[tuple[Arr, Arr]]) -> tuple[pa.Buffer | None, int]:
        """The validity bitmap and null count of a column of ``parts``: computed once for
        the columns of a layer, which share their rows (kept, so that their ids stay theirs)."""
        key = tuple(id(rows) for rows, _ in parts)
        if key not in self.bitmaps:
            valid = np.zeros(self.n, bool)
            for rows, _ in parts:
                valid[rows] = True
            valid &= ~self.slow
            nulls = self.n - int(np.count_nonzero(valid))
            bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
            self.bitmaps[key] = (bitmap, nulls, [rows for rows, _ in parts])
        bitmap, nulls, _ = self.bitmaps[key]
        return bitmap, nulls

    def mark(self, rows: Arr, bad: Arr) -> None:
        """Leave ``rows[bad]`` to the per-packet decoder."""
        self.slow[rows[bad]] = True

    def drop(self, bad: Arr, rows: Arr, *values: Arr) -> list[Arr]:
        """Mark ``rows[bad]`` slow; ``rows`` and ``values`` without them."""
        if not bad.any():
            return [rows, *values]
        self.slow[rows[bad]] = True
        return [x[~bad] for x in (rows, *values)]

    # -- link layer
    def link(self) -> None:
        lt = self.r.linktype & LINKTYPE_MASK
        eth = lt == LinkType.ETHERNET
        raw = np.isin(lt, list(RAW_IP))
        v6 = lt == LinkType.IPV6
        self.slow |= ~(eth | raw | v6)
        self.ip_off[:] = self.r.start
        self.ethernet(np.flatnonzero(eth))
        self.raw_ip(np.flatnonzero(raw | v6), v6)

    def ethernet(self, rows: Arr) -> None:
        r = self.r
        rows, cap = self.drop(r.caplen[rows] < ETHERNET_LAYOUT.size, rows, r.caplen[rows])
        block = _gather(r.data, r.start[rows], ETHERNET_LAYOUT.size + _MAX_TAGS * 4)
        ethertype = _Header(block, ETHERNET_LAYOUT)["type"].astype(np.int64)
        self.put("eth.type", rows, ethertype)
        inner, tags = self.vlan_tags(rows, cap, block, ethertype)
        self.ip_off[rows] = r.start[rows] + ETHERNET_LAYOUT.size + tags * VLAN_TAG_LAYOUT.size
        stops = (
            (inner <= link_schema.MAX_802_3_LENGTH)
            | (inner == link_schema.ETHERTYPE_PPPOE_SESSION)
            | np.isin(inner, list(link_schema.ETHERTYPE_MPLS))
        )
        self.mark(rows, stops)
        self.net[rows[inner == link_schema.ETHERTYPE_IPV4]] = 4
        self.net[rows[inner == link_schema.ETHERTYPE_IPV6]] = 6

    def vlan_tags(self, rows: Arr, cap: Arr, block: Arr, ethertype: Arr) -> tuple[Arr, Arr]:
        """Follow up to :data:`_MAX_TAGS` VLAN tags: the EtherType after them and how many."""
        inner, tags = ethertype.copy(), np.zeros(len(rows), np.int64)
        tpids = list(link_schema.VLAN_TPIDS)
        tagged = np.flatnonzero(np.isin(ethertype, tpids))
        vid = np.zeros((len(tagged), _MAX_TAGS), np.int64)
        tpid = np.zeros((len(tagged), _MAX_TAGS), np.int64)
        more = np.arange(len(tagged))  # the tagged frames with a tag at depth k
        for k in range(_MAX_TAGS):
            at = tagged[more]
            base = ETHERNET_LAYOUT.size + k * VLAN_TAG_LAYOUT.size
            self.mark(rows[at], cap[at] < base + VLAN_TAG_LAYOUT.size)
            tag = _Header(block[at], VLAN_TAG_LAYOUT, base)
            vid[more, k], tpid[more, k] = tag["vid"], inner[at]
            inner[at] = tag["type"]
            tags[at] += 1
            more = more[np.isin(inner[at], tpids)]
        self.slow[rows[tagged[more]]] = True  # more tags than the fast path follows
        customer = tpid == link_schema.ETHERTYPE_VLAN
        self.lists["vlan.id"].append((rows[tagged], vid, customer))
        self.lists["ieee8021ad.id"].append((rows[tagged], vid, (tpid != 0) & ~customer))
        return inner, tags

    def raw_ip(self, rows: Arr, v6: Arr) -> None:
        r = self.r
        captured = r.caplen[rows] > 0
        version = np.where(captured, r.data[r.start[rows]] >> 4, 0)
        self.net[rows[version == 4]] = 4
        self.net[rows[version == 6]] = 6
        self.mark(rows, v6[rows] & (version != 6))

    # -- network layer
    def ip_rows(self, version: int, size: int) -> tuple[Arr, Arr]:
        """The rows with an IP header of ``version`` and how much of each was captured."""
        rows = np.flatnonzero((self.net == version) & ~self.slow)
        cap = self.r.start[rows] + self.r.caplen[rows] - self.ip_off[rows]
        rows, cap = self.drop(cap < size, rows, cap)
        return rows, cap

    def ipv4(self) -> None:
        rows, cap = self.ip_rows(4, IPV4_LAYOUT.size)
        block = _gather(self.r.data, self.ip_off[rows], IPV4_LAYOUT.size)
        h = _Header(block, IPV4_LAYOUT)
        total = h["total_length"].astype(np.int64)
        hlen = h["ihl"].astype(np.int64) * 4
        bad = (h["version"] != 4) | (hlen < IPV4_LAYOUT.size)
        bad |= (total < hlen) | (total > cap)
        rows, total, hlen, block = self.drop(bad, rows, total, hlen, block)
        header_sum = _be_words(block, 0, IPV4_LAYOUT.size // 2)
        routed = self.ipv4_options(rows, hlen, header_sum)
        rows, total, hlen, block, header_sum = self.drop(
            routed, rows, total, hlen, block, header_sum
        )
        h = _Header(block, IPV4_LAYOUT)
        for name, field in _LEAVES["ip"]:
            self.put(name, rows, h[field])
        self.put("ip.hdr_len", rows, hlen)
        self.put("ip.len", rows, total)
        self.put("ip.checksum.status", rows, _good(header_sum))
        src, dst = h["src"], h["dst"]
        self.texts["ip.src"].append((rows, src))
        self.texts["ip.dst"].append((rows, dst))
        fragment = h["frag_offset"] != 0
        proto = np.where(fragment, -1, h["protocol"].astype(np.int64))
        more = (h["flags"] & FLAG_MF) != 0
        self.mark(rows, more & np.isin(proto, (ipproto.TCP, ipproto.UDP)))
        self.transport_at(rows, proto, self.ip_off[rows] + hlen, total)
        self.pseudo[rows] = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF)

    def ipv4_options(self, rows: Arr, hlen: Arr, header_sum: Arr) -> Arr:
        """Add the option words of headers longer than 20 bytes to ``header_sum``; True
        where the options may hold a source route (its last hop becomes the destination
        tshark shows and the checksum covers: the per-packet decoder's to read)."""
        routed = np.zeros(len(rows), bool)
        longer = np.flatnonzero(hlen > IPV4_LAYOUT.size)
        if not longer.size:
            return routed
        wide = _gather(self.r.data, self.ip_off[rows[longer]], _IPV4_MAX)
        opt = wide.view(np.uint8).reshape(len(longer), _IPV4_MAX)[:, IPV4_LAYOUT.size :]
        inside = np.arange(opt.shape[1]) < (hlen[longer] - IPV4_LAYOUT.size)[:, None]
        routed[longer] = (np.isin(opt, _SOURCE_ROUTES) & inside).any(axis=1)
        pairs = opt.reshape(len(longer), -1, 2).astype(np.uint64)
        words = (pairs[:, :, 0] << 8) | pairs[:, :, 1]
        header_sum[longer] += (words * inside[:, 0::2]).sum(axis=1)
        return routed

    def ipv6(self) -> None:
        rows, cap = self.ip_rows(6, IPV6_LAYOUT.size)
        block = _gather(self.r.data, self.ip_off[rows], IPV6_LAYOUT.size)
        h = _Header(block, IPV6_LAYOUT)
        plen = h["payload_length"].astype(np.int64)
        nxt = h["next_header"].astype(np.int64)
        bad = (h["version"] != 6) | (plen == 0) | (IPV6_LAYOUT.size + plen > cap)
        bad |= np.isin(nxt, list(EXTENSION_HEADERS))
        rows, plen, nxt, block = self.drop(bad, rows, plen, nxt, block)
        h = _Header(block, IPV6_LAYOUT)
        for name, field in _LEAVES["ipv6"]:
            self.put(name, rows, h[field])
        self.texts["ipv6.src"].append((rows, h["src"]))
        self.texts["ipv6.dst"].append((rows, h["dst"]))
        at = IPV6_LAYOUT.offsets["src"]
        words = (IPV6_LAYOUT.ends[-1] - at) // 2
        self.transport_at(rows, nxt, self.ip_off[rows] + IPV6_LAYOUT.size, plen + IPV6_LAYOUT.size)
        self.pseudo[rows] = _be_words(block, at, words)

    def transport_at(self, rows: Arr, proto: Arr, t_off: Arr, ip_len: Arr) -> None:
        self.mark(rows, np.isin(proto, _TUNNEL_PROTOCOLS))  # the per-packet decoder goes in
        self.proto[rows] = proto
        self.t_off[rows] = t_off
        self.end[rows] = self.ip_off[rows] + ip_len

    # -- transport layer
    def segment_rows(self, proto: int, size: int) -> Arr:
        rows = np.flatnonzero((self.proto == proto) & ~self.slow)
        return self.drop(self.end[rows] - self.t_off[rows] < size, rows)[0]

    def tcp(self) -> tuple[Arr, Arr]:
        """Decode the TCP headers; their rows and their checksum fields."""
        rows = self.segment_rows(ipproto.TCP, TCP_LAYOUT.size)
        block = _gather(self.r.data, self.t_off[rows], TCP_LAYOUT.size + _OPTION_SPACE)
        hlen = _Header(block, TCP_LAYOUT)["data_offset"].astype(np.int64) * 4
        seg = self.end[rows] - self.t_off[rows]
        rows, block, hlen, seg = self.drop(
            (hlen < TCP_LAYOUT.size) | (hlen > seg), rows, block, hlen, seg
        )
        opt = block.view(np.uint8).reshape(len(rows), block.dtype.itemsize)[:, TCP_LAYOUT.size :]
        ok = self.options(rows, opt, hlen - TCP_LAYOUT.size)
        rows, block, hlen, seg = self.drop(~ok, rows, block, hlen, seg)
        h = _Header(block, TCP_LAYOUT)
        for name, field in _LEAVES["tcp"]:
            self.put(name, rows, h[field])
        self.put("tcp.hdr_len", rows, hlen)
        self.put("tcp.len", rows, seg - hlen)
        return rows, seg

    def options(self, rows: Arr, opt: Arr, end: Arr) -> Arr:
        """Option lists and values of the segments ``rows`` with option space
        ``opt[:, :end]``; False where the per-packet decoder must look."""
        matched = np.full(len(rows), -1)
        for i, template in enumerate(_TEMPLATES):
            matched[template.match(opt, end) & (matched < 0)] = i
        for i, template in enumerate(_TEMPLATES):
            self.template(rows, opt, np.flatnonzero(matched == i), template)
        rest = np.flatnonzero((matched < 0) & (end > 0))
        walk = _walk(opt[rest], end[rest])
        good = rest[walk.ok]
        self.walked(
            rows[good], opt[good], walk.kind[walk.ok], walk.length[walk.ok], walk.pos[walk.ok]
        )
        ok = np.ones(len(rows), bool)
        ok[rest] = walk.ok
        return ok

    def template(self, rows: Arr, opt: Arr, hit: Arr, template: _Template) -> None:
        listed = [n for n in template.lengths if n >= 0]
        for name, values in (("tcp.option_kind", template.kinds), ("tcp.option_len", listed)):
            matrix = np.broadcast_to(np.array(values, np.int64), (len(hit), len(values)))
            self.lists[name].append((rows[hit], matrix, None))
        for kind, at in zip(template.kinds, template.pos, strict=True):
            self.option_values(rows[hit], opt[hit], kind, at)

    def walked(self, rows: Arr, opt: Arr, kinds: Arr, lengths: Arr, pos: Arr) -> None:
        """Lists and values from walked options (``kinds`` etc.: see :class:`_Walk`)."""
        self.lists["tcp.option_kind"].append((rows, kinds, kinds >= 0))
        self.lists["tcp.option_len"].append((rows, lengths, lengths >= 0))
        for kind in (*_VALUES, t.SACK_PERMITTED):
            r, s = np.nonzero(kinds == kind)
            last = np.ones(len(r), bool)  # an option given twice: the last one counts
            last[:-1] = r[1:] != r[:-1]
            r, s = r[last], s[last]
            self.option_values(rows[r], opt[r], kind, pos[r, s])
        r, s = np.nonzero(kinds == t.SACK)  # in row order, then wire order
        blocks = (lengths[r, s] - 2) // 8
        at = np.repeat(pos[r, s] + 2, blocks)
        at += 8 * (np.arange(len(at)) - np.repeat(np.cumsum(blocks) - blocks, blocks))
        r = np.repeat(r, blocks)
        self.lists["tcp.options.sack_le"].append((rows[r], _be(opt, r, at, 4), None))
        self.lists["tcp.options.sack_re"].append((rows[r], _be(opt, r, at + 4, 4), None))
        # MPTCP: the subtype, the high four bits after the length, of each option long
        # enough to have one
        r, s = np.nonzero((kinds == t.MPTCP) & (lengths >= _MPTCP.minimum))
        subtype = opt[r, pos[r, s] + 2] >> 4
        self.lists["tcp.options.mptcp.subtype"].append((rows[r], subtype, None))
        # TFO: the last cookie of each segment, in hex (a few SYNs carry one)
        r, s = np.nonzero((kinds == t.FAST_OPEN) & (lengths > 2))
        last = np.ones(len(r), bool)
        last[:-1] = r[1:] != r[:-1]
        r, s = r[last], s[last]
        ends = pos[r, s] + lengths[r, s]
        cookies = [bytes(opt[i, a:b]).hex() for i, a, b in zip(r, pos[r, s] + 2, ends, strict=True)]
        self.words["tcp.options.tfo.cookie"].append((rows[r], cookies))

    def option_values(self, rows: Arr, opt: Arr, kind: int, at: Arr | int) -> None:
        """The columns option ``kind`` at ``opt[:, at]`` fills."""
        index = np.arange(len(rows))
        for name, offset, size in _VALUES.get(kind, ()):
            self.put(name, rows, _be(opt, index, at + offset, size))
        if kind == t.WINDOW_SCALE:
            shift = _be(opt, index, at + 2, 1).astype(np.int64)
            self.put("tcp.options.wscale.multiplier", rows, np.left_shift(1, shift))
        elif kind == t.SACK_PERMITTED:
            self.put("tcp.options.sack_perm", rows, np.ones(len(rows), bool))

    def udp(self) -> tuple[Arr, Arr, Arr]:
        """Decode the UDP headers; their rows, lengths and checksum fields."""
        rows = self.segment_rows(ipproto.UDP, UDP_LAYOUT.size)
        h = _Header(_gather(self.r.data, self.t_off[rows], UDP_LAYOUT.size), UDP_LAYOUT)
        length = h["length"].astype(np.int64)
        bad = (length < UDP_LAYOUT.size) | (length > self.end[rows] - self.t_off[rows])
        tunnel = np.isin(h["srcport"], _TUNNEL_PORTS) | np.isin(h["dstport"], _TUNNEL_PORTS)
        keep = ~(bad | tunnel)
        rows, length, checksum = self.drop(bad | tunnel, rows, length, h["checksum"])
        for name, field in _LEAVES["udp"]:
            self.put(name, rows, h[field][keep])
        return rows, length, checksum

    def transport_checksums(
        self, tcp: Arr, tcp_len: Arr, udp: Arr, udp_len: Arr, udp_absent: Arr
    ) -> None:
        """``tcp.checksum.status`` and ``udp.checksum.status``, one pass over the data."""
        rows = np.concatenate([tcp, udp])
        length = np.concatenate([tcp_len, udp_len])
        order = np.argsort(rows)
        lo = self.t_off[rows[order]]
        sums = np.empty(len(rows), np.uint64)
        sums[order] = _word_sums(self.r.data, lo, lo + length[order])
        proto = np.repeat(np.array([ipproto.TCP, ipproto.UDP], np.uint64), [len(tcp), len(udp)])
        status = _good(sums + self.pseudo[rows] + proto + length.astype(np.uint64))
        self.put("tcp.checksum.status", tcp, status[: len(tcp)])
        zero = ChecksumStatus.of_zero_udp_checksum
        unset = np.where(self.net[udp] == 4, zero(4), zero(6))
        self.put("udp.checksum.status", udp, np.where(udp_absent, unset, status[len(tcp) :]))


# -- Arrow columns ----------------------------------------------------------------------

_FLAG_BITS = functools.reduce(lambda a, b: a | b, (bit for bit, _ in t.FLAG_NAMES))


@functools.cache
def _flag_text() -> pa.Array:
    """``tcp.flags.str`` of every combination of the named flag bits."""
    return _strings(
        [",".join(n for bit, n in t.FLAG_NAMES if v & bit) for v in range(_FLAG_BITS + 1)]
    )


# Arrays are built from their buffers: ``pa.array`` and ``Array.to_numpy`` import pandas,
# which the Arrow engine has no need of (and which takes longer to load than a chunk does
# to decode).


def _numeric(
    values: Arr, typ: pa.DataType, validity: pa.Buffer | None = None, nulls: int = 0
) -> pa.Array:
    """``values`` as an array of ``typ`` (integers, floats, booleans or timestamps)."""
    if pa.types.is_boolean(typ):
        data = np.packbits(values, bitorder="little")
    else:
        width = np.int64 if pa.types.is_timestamp(typ) else typ.to_pandas_dtype()
        data = np.ascontiguousarray(values, dtype=width)
    return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(data)], null_count=nulls)


def _strings(words: list[str]) -> pa.Array:
    """``words`` as a string array."""
    encoded = [w.encode() for w in words]
    offsets = np.zeros(len(words) + 1, np.int32)
    np.cumsum([len(w) for w in encoded], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(words), buffers)


def _column(dec: _Decoder, name: str, typ: pa.DataType) -> pa.Array:
    """Column ``name`` of the fast rows; null in the slow ones."""
    if name in _FRAME or name == "frame.linktype":
        return _frame_column(dec.r, name, typ)
    if name in dec.lists:
        return _list_column(dec, dec.lists[name], typ)
    if name in dec.texts:
        return _text_column(dec, dec.texts[name])
    if name in dec.words:
        return _word_column(dec, dec.words[name])
    if name == "tcp.flags.str":
        parts = [(rows, flags & _FLAG_BITS) for rows, flags in dec.scalars["tcp.flags"]]
        return pa.DictionaryArray.from_arrays(_scalar(dec, parts, typ.index_type), _flag_text())
    if name in FLAG_COLUMNS:
        bit = FLAG_COLUMNS[name]
        return _scalar(dec, [(r, (f & bit) != 0) for r, f in dec.scalars["tcp.flags"]], typ)
    if name == "malformed":
        return _scalar(dec, [(dec.every, np.zeros(dec.n, bool))], typ)
    return _scalar(dec, dec.scalars.get(name, []), typ)


def _scalar(dec: _Decoder, parts: Sequence[tuple[Arr, Arr]], typ: pa.DataType) -> pa.Array:
    """A column from ``(rows, values)`` parts, null elsewhere and in the slow rows."""
    if not parts:
        return pa.nulls(dec.n, typ)
    values = np.zeros(dec.n, typ.to_pandas_dtype())
    for rows, part in parts:
        values[rows] = part
    return _numeric(values, typ, *dec.validity(parts))


def _list_column(
    dec: _Decoder, parts: list[tuple[Arr, Arr, Arr | None]], typ: pa.DataType
) -> pa.Array:
    """A list column from its parts (see :class:`_Decoder`); null where a row has none."""
    parts = [_fast_part(dec, *part) for part in parts]
    counts = np.zeros(dec.n, np.int64)
    for rows, values, mask in parts:
        if values.ndim == 1:
            counts += np.bincount(rows, minlength=dec.n)
        else:
            counts[rows] += values.shape[1] if mask is None else mask.sum(axis=1)
    offsets = np.zeros(dec.n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    items = np.zeros(offsets[-1], typ.value_type.to_pandas_dtype())
    for rows, values, mask in parts:
        if values.ndim == 1:  # entries in row order: each after those of its row before it
            items[offsets[rows] + np.arange(len(rows)) - np.searchsorted(rows, rows)] = values
        elif mask is None:
            items[offsets[rows, None] + np.arange(values.shape[1])] = values
        else:
            at = offsets[rows, None] + np.cumsum(mask, axis=1) - 1
            items[at[mask]] = values[mask]
    return pa.ListArray.from_arrays(
        _numeric(offsets, pa.int32()),
        _numeric(items, typ.value_type),
        mask=_numeric(counts == 0, pa.bool_()),
    )


def _fast_part(
    dec: _Decoder, rows: Arr, values: Arr, mask: Arr | None
) -> tuple[Arr, Arr, Arr | None]:
    """A list part without its slow rows."""
    fast = ~dec.slow[rows]
    if fast.all():
        return rows, values, mask
    return rows[fast], values[fast], None if mask is None else mask[fast]


def _text_column(dec: _Decoder, parts: list[tuple[Arr, Arr]]) -> pa.Array:
    """Addresses in text form: each distinct one formatted once, by ``ntop``."""
    words: list[str] = []
    coded = []
    for rows, keys in parts:
        codes, distinct = _encode(keys)
        coded.append((rows, codes + len(words)))
        words += distinct
    return _strings(words).take(_scalar(dec, coded, pa.int64()))


def _word_column(dec: _Decoder, parts: list[tuple[Arr, list[str]]]) -> pa.Array:
    """A string column from strings made one by one."""
    words: list[str] = []
    coded = []
    for rows, made in parts:
        coded.append((rows, np.arange(len(words), len(words) + len(made))))
        words += made
    return _strings(words).take(_scalar(dec, coded, pa.int64()))


def _encode(keys: Arr) -> tuple[Arr, list[str]]:
    """Dictionary codes of 32-bit (IPv4) or byte-string (IPv6) addresses, and their text."""
    if keys.ndim == 1:
        encoded = _numeric(keys, pa.uint32()).dictionary_encode()
        distinct = [ntop(v.to_bytes(4, "big")) for v in encoded.dictionary.to_pylist()]
    else:
        binary = pa.Array.from_buffers(
            pa.binary(keys.shape[1]), len(keys), [None, pa.py_buffer(keys)]
        )
        encoded = binary.dictionary_encode()
        distinct = [ntop(v) for v in encoded.dictionary.to_pylist()]
    indices = encoded.indices  # int32, no nulls
    codes = np.frombuffer(indices.buffers()[1], np.int32, len(indices), indices.offset * 4)
    return codes.astype(np.int64), distinct


def _frame_column(recs: _Records, name: str, typ: pa.DataType) -> pa.Array:
    """A column of the records themselves (the same in every row, fast or slow)."""
    if name == "frame.number":
        return _numeric(recs.number, typ)
    if name == "frame.len":
        return _numeric(recs.wirelen, typ)
    if name == "frame.cap_len":
        return _numeric(recs.caplen, typ)
    if name == "frame.linktype":
        if (recs.linktype == recs.linktype[0]).all():  # every classic pcap file
            linktypes, codes = recs.linktype[:1], np.zeros(len(recs), np.int64)
        else:
            linktypes, codes = np.unique(recs.linktype, return_inverse=True)
        text = _strings([linktype_name(int(v)) for v in linktypes])
        return pa.DictionaryArray.from_arrays(_numeric(codes, pa.int32()), text)
    times = recs.time_ns
    if isinstance(times, list):  # beyond 64 bits: as the per-packet rows have it
        if name == "frame.time":
            return pa.array([v if v < _MAX_NS else None for v in times], typ)
        return pa.array([v / 1e9 for v in times], typ)
    return _numeric(times if name == "frame.time" else times / 1e9, typ)


def _packet_row(recs: _Records, i: int) -> dict[str, Any]:
    """The per-packet decoder's row for record ``i``."""
    start = int(recs.start[i])
    data = recs.data[start : start + int(recs.caplen[i])].tobytes()
    pkt = decode(data, int(recs.linktype[i]), wirelen=int(recs.wirelen[i]))
    pkt.number = int(recs.number[i])
    pkt.timestamp_ns = int(recs.time_ns[i])
    return row(pkt)


def _merge_slow(dec: _Decoder, arrays: dict[str, pa.Array]) -> None:
    """Put the per-packet decoder's rows in place of the slow rows."""
    slow = np.flatnonzero(dec.slow)
    if not slow.size:
        return
    rows = [_packet_row(dec.r, int(i)) for i in slow]
    order = np.arange(dec.n)
    order[slow] = dec.n + np.arange(len(slow))
    take = _numeric(order, pa.int64())
    for name, fast in arrays.items():
        if name in _FRAME or name == "frame.linktype":
            continue
        values = pa.array([r.get(name) for r in rows], fast.type)
        if values.null_count < len(values):
            arrays[name] = pa.concat_arrays([fast, values]).take(take)


def _piece(recs: _Records, sch: pa.Schema) -> list[pa.Array]:
    """The columns of ``sch`` for a run of records."""
    if not sch.names:
        return []
    needs = {"tcp.checksum.status", "udp.checksum.status"}
    dec = _Decoder(recs, checksums=not needs.isdisjoint(sch.names))
    dec.run()
    arrays = {f.name: _column(dec, f.name, f.type) for f in sch}
    _merge_slow(dec, arrays)
    return list(arrays.values())


def _assemble(pieces: list[list[pa.Array]], sch: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The pieces of one batch of :data:`~headerkit.tables.table.BATCH_ROWS` rows as record batches.

    Every piece of a dictionary column takes as its dictionary the batch's values in order
    of first appearance, as the per-packet rows encoded in one batch have it.
    """
    for i, field in enumerate(sch):
        if pa.types.is_dictionary(field.type):
            for piece, part in zip(pieces, _first_seen([p[i] for p in pieces]), strict=True):
                piece[i] = part
    for piece in pieces:
        yield pa.RecordBatch.from_arrays(piece, schema=sch)


def _first_seen(parts: list[pa.DictionaryArray]) -> list[pa.DictionaryArray]:
    """``parts`` re-encoded with one dictionary: their values in order of first appearance."""
    seen: dict[str, int] = {}
    tables = []
    for part in parts:
        words = part.dictionary.to_pylist()
        for index in part.indices.unique().drop_null().to_pylist():
            seen.setdefault(words[index], len(seen))
        tables.append(_numeric(np.array([seen.get(w, 0) for w in words], np.int32), pa.int32()))
    dictionary = _strings(list(seen))
    return [
        pa.DictionaryArray.from_arrays(table.take(part.indices), dictionary)
        for table, part in zip(tables, parts, strict=True)
    ]


def batches(
    source: Source,
    fields: Sequence[str] | None = None,
    rows: int = BATCH_ROWS,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[pa.RecordBatch]:
    """The table of a capture file as record batches, reading ``chunk_bytes`` of the file at a
    time; batches end where the file's chunks do and every ``rows`` packets (where the
    per-packet :func:`~headerkit.tables.table.record_batches` ends its batches)."""
    sch = schema(fields)
    pending: list[list[pa.Array]] = []
    count = 0
    for recs in _pieces(source, chunk_bytes):
        at = 0
        while at < len(recs):
            size = min(len(recs) - at, rows - count)
            pending.append(_piece(recs.part(at, at + size), sch))
            at += size
            count += size
            if count == rows:
                yield from _assemble(pending, sch)
                pending, count = [], 0
    if count:
        yield from _assemble(pending, sch)
    elif not sch.names:
        yield pa.RecordBatch.from_arrays([], schema=sch)
