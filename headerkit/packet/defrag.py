"""IP fragment reassembly across a capture, as tshark does it by default.

:func:`reassemble` passes packets through; a fragment waits (it comes out without a
transport header, as tshark shows it) until the frame that completes its datagram comes:
that frame comes out with the transport header of the whole datagram (``pkt.datagram``
holds the datagram; its IP header fields stay the last fragment's, as tshark shows them).

Fragments that overlap are noted, and where they carry different bytes the first copy is
kept and the packet says so.  What is held is bounded: a number of datagrams, bytes per
datagram (an IPv4 datagram is at most 65,535 bytes) and in all, and time since a
datagram's first fragment (capture time); past a bound the oldest datagram is dropped, with
a note on the packet that made room.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from headerkit.packet.decode import NON_FIRST_FRAGMENT, Packet, decode
from headerkit.packet.layers import TCP, UDP
from headerkit.schemas.checksum import internet_checksum
from headerkit.schemas.linktypes import LinkType

MAX_DATAGRAMS = 1024
MAX_FRAGMENTS = 1024  # per datagram: each one is compared with those held
MAX_DATAGRAM_BYTES = 65_535
MAX_HELD_BYTES = 64 << 20
TIMEOUT_NS = 60 * 1_000_000_000
_NON_FIRST = {NON_FIRST_FRAGMENT.format(version) for version in (4, 6)}


@dataclass(slots=True)
class _Datagram:
    first: Packet | None = None  # the fragment at offset 0
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> bytes
    frames: list[int] = field(default_factory=list)
    end: int | None = None  # the length, once the last fragment came
    held: int = 0
    started_ns: int = 0


class Reassembler:
    """The datagrams being put together; :meth:`feed` each packet in capture order."""

    def __init__(
        self,
        max_datagrams: int = MAX_DATAGRAMS,
        max_held_bytes: int = MAX_HELD_BYTES,
        timeout_ns: int = TIMEOUT_NS,
    ) -> None:
        self.max_datagrams = max_datagrams
        self.max_held_bytes = max_held_bytes
        self.timeout_ns = timeout_ns
        self.pending: OrderedDict[tuple[object, ...], _Datagram] = OrderedDict()
        self.held = 0
        self.dropped = 0

    def feed(self, pkt: Packet) -> Packet:
        """``pkt`` as it comes out: unchanged, a fragment waiting, or the completed datagram."""
        frag = pkt.fragment
        if frag is None:
            return pkt
        now = pkt.timestamp_ns or 0
        self._expire(now, pkt)
        gram = self.pending.get(frag.key)
        if gram is None:
            gram = self.pending[frag.key] = _Datagram(started_ns=now)
        piece = pkt.data[frag.payload[0] : frag.payload[1]]
        if frag.offset + len(piece) > MAX_DATAGRAM_BYTES:
            pkt.notes.append(f"fragment past {MAX_DATAGRAM_BYTES} bytes: not reassembled")
            return _waiting(pkt)
        if len(gram.pieces) >= MAX_FRAGMENTS:
            pkt.notes.append(f"more than {MAX_FRAGMENTS} fragments of one datagram: dropped")
            return _waiting(pkt)
        self._overlaps(gram, frag.offset, piece, pkt)
        if frag.offset not in gram.pieces:  # a copy of a piece held adds nothing
            gram.pieces[frag.offset] = piece
            gram.held += len(piece)
            self.held += len(piece)
        gram.frames.append(pkt.number or 0)
        if frag.offset == 0:
            gram.first = pkt
        if not frag.more:
            gram.end = frag.offset + len(piece)
        self._bound(pkt)
        whole = _whole(gram)
        if whole is None or gram.first is None:
            return _waiting(pkt)
        del self.pending[frag.key]
        self.held -= gram.held
        return _completed(pkt, gram.first, whole, gram.frames)

    def _overlaps(self, gram: _Datagram, offset: int, piece: bytes, pkt: Packet) -> None:
        for start, held in gram.pieces.items():
            lo, hi = max(start, offset), min(start + len(held), offset + len(piece))
            if lo >= hi:
                continue
            same = held[lo - start : hi - start] == piece[lo - offset : hi - offset]
            what = "the same bytes" if same else "different bytes: the first copy is kept"
            pkt.notes.append(f"fragment overlaps bytes {lo}-{hi - 1} already held, with {what}")

    def _bound(self, pkt: Packet) -> None:
        while self.pending and (
            len(self.pending) > self.max_datagrams or self.held > self.max_held_bytes
        ):
            self._drop(pkt, "too many fragments held")

    def _expire(self, now: int, pkt: Packet) -> None:
        while self.pending:
            oldest = next(iter(self.pending.values()))
            if now - oldest.started_ns <= self.timeout_ns:
                return
            self._drop(pkt, "its fragments waited too long")

    def _drop(self, pkt: Packet, why: str) -> None:
        _, gram = self.pending.popitem(last=False)
        self.held -= gram.held
        self.dropped += 1
        pkt.notes.append(f"a datagram of frames {gram.frames} was not reassembled: {why}")


def reassemble(
    packets: Iterable[Packet], reassembler: Reassembler | None = None
) -> Iterator[Packet]:
    """The packets, IP fragments reassembled (see the module docstring)."""
    state = reassembler or Reassembler()
    for pkt in packets:
        yield state.feed(pkt)


def _whole(gram: _Datagram) -> bytes | None:
    """The datagram's payload, when every byte up to its end has come."""
    if gram.end is None:
        return None
    out = bytearray()
    for start in sorted(gram.pieces):
        piece = gram.pieces[start]
        if start > len(out):
            return None  # a hole
        out += piece[len(out) - start :]
    return bytes(out[: gram.end]) if len(out) >= gram.end else None


def _waiting(pkt: Packet) -> Packet:
    """A fragment as tshark shows it while reassembling: no transport header."""
    layers = [x for x in pkt.layers if not isinstance(x, TCP | UDP)]
    return pkt.replace(layers=layers, tcp=None, udp=None, payload_offset=None)


def _completed(last: Packet, first: Packet, payload: bytes, frames: list[int]) -> Packet:
    """The completing frame, with the transport header decoded from the whole datagram."""
    frag = first.fragment
    assert frag is not None
    header = bytearray(first.data[frag.header[0] : frag.header[0] + frag.header[1]])
    if frag.next_header_at < 0:  # IPv4: one datagram, not fragmented, checksum redone
        header[2:4] = (len(header) + len(payload)).to_bytes(2, "big")
        header[6:8] = b"\0\0"
        header[10:12] = b"\0\0"
        header[10:12] = internet_checksum(bytes(header)).to_bytes(2, "big")
        linktype = LinkType.RAW
    else:  # IPv6: the header names what the fragment header named, lengths redone
        header[frag.next_header_at - frag.header[0]] = first.data[frag.payload[0] - 8]
        header[4:6] = (len(header) - 40 + len(payload)).to_bytes(2, "big")
        linktype = LinkType.IPV6
    datagram = bytes(header) + payload
    whole = decode(datagram, linktype)
    inner = [x for x in whole.layers if isinstance(x, TCP | UDP)]
    kept = _waiting(last).layers
    out = last.replace(
        layers=[*kept, *inner],
        tcp=whole.tcp,
        udp=whole.udp,
        payload_offset=whole.payload_offset,
        payload_end=whole.payload_end,
        datagram=datagram,
        problems=[*last.problems, *whole.problems],
        notes=[
            *(n for n in last.notes if n not in _NON_FIRST),
            f"reassembled from frames {frames}",
        ],
    )
    return out
