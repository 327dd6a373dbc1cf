"""What travels between the modeled endpoints: TCP segments and UDP datagrams (or fragments).

Sequence numbers live in a 32-bit space; compare them with :mod:`headerkit.seqnum`,
never with ``<``.
"""

from __future__ import annotations

from dataclasses import dataclass

from headerkit.flows.flags import NO_FLAGS, Analysis
from headerkit.schemas.tcp import FIN, FLAG_LETTERS, SYN


def flag_text(flags: int) -> str:
    """Flags as tcpdump and packetdrill print them: ``S``, ``S.``, ``P.``, ``F.``, ``R``."""
    return "".join(letter for bit, letter in FLAG_LETTERS if flags & bit)


@dataclass(slots=True, eq=False)
class Segment:
    """One TCP segment; ``window`` is the raw 16-bit header field (unscaled).

    ``labels`` are the simulator's own verdicts on the segment, as the flags flow analysis
    gives a captured one (tshark's ``tcp.analysis.*``).
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
    labels: Analysis = NO_FLAGS

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
    labels: Analysis = NO_FLAGS

    @property
    def is_fragment(self) -> bool:
        return self.more_fragments or self.offset > 0

    @property
    def wire_size(self) -> int:
        """Bytes on the wire: IPv4 (20) + UDP (8, first fragment only) + data."""
        return 20 + len(self.payload) + (8 if self.offset == 0 else 0)


Packet = Segment | Datagram
