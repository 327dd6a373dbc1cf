"""What travels between the modeled endpoints: TCP segments and UDP datagrams (or fragments).

Sequence numbers live in a 32-bit space; compare them with serial-number arithmetic
(RFC 1982) through ``seq_lt`` and friends, never with ``<``.
"""

from __future__ import annotations

from dataclasses import dataclass

MOD = 1 << 32
HALF = 1 << 31

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10

# tcpdump/packetdrill order and letters; ACK is the trailing "."
_FLAG_LETTERS = ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"))


def seq_add(a: int, n: int) -> int:
    return (a + n) % MOD


def seq_diff(a: int, b: int) -> int:
    """``a - b`` as a signed distance in sequence space."""
    d = (a - b) % MOD
    return d - MOD if d >= HALF else d


def seq_lt(a: int, b: int) -> bool:
    return a != b and (b - a) % MOD < HALF


def seq_le(a: int, b: int) -> bool:
    return a == b or (b - a) % MOD < HALF


def seq_max(a: int, b: int) -> int:
    return b if seq_lt(a, b) else a


def flag_text(flags: int) -> str:
    """Flags as tcpdump and packetdrill print them: ``S``, ``S.``, ``P.``, ``F.``, ``R``."""
    text = "".join(letter for bit, letter in _FLAG_LETTERS if flags & bit)
    return text + "." if flags & ACK else text


@dataclass(slots=True, eq=False)
class Segment:
    """One TCP segment; ``window`` is the raw 16-bit header field (unscaled).

    ``labels`` are the simulator's own verdicts on the segment, named as tshark's
    ``tcp.analysis.*`` fields (``retransmission``, ``zero_window_probe``, ...).
    """

    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    payload: bytes = b""
    mss: int | None = None
    wscale: int | None = None
    labels: tuple[str, ...] = ()

    @property
    def seg_len(self) -> int:
        """Sequence space the segment occupies: data plus one for SYN and one for FIN."""
        return len(self.payload) + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    @property
    def wire_size(self) -> int:
        """Bytes on the wire: IPv4 (20) + TCP (20 + options) + data."""
        options = (4 if self.mss is not None else 0) + (4 if self.wscale is not None else 0)
        return 40 + options + len(self.payload)


@dataclass(slots=True, eq=False)
class Datagram:
    """One UDP datagram, or one IPv4 fragment of it.

    ``payload`` is application data (for a fragment, its slice of it).  ``offset`` is the
    fragment offset in bytes of the IP payload, which starts with the 8-byte UDP header, so
    only the fragment at offset 0 carries that header; ``total`` is the length of the whole
    datagram's data and ``ident`` its IP identification.
    """

    sport: int
    dport: int
    payload: bytes
    ident: int = 0
    offset: int = 0
    more_fragments: bool = False
    total: int = 0
    labels: tuple[str, ...] = ()

    @property
    def is_fragment(self) -> bool:
        return self.more_fragments or self.offset > 0

    @property
    def wire_size(self) -> int:
        """Bytes on the wire: IPv4 (20) + UDP (8, first fragment only) + data."""
        return 20 + len(self.payload) + (8 if self.offset == 0 else 0)


Packet = Segment | Datagram
