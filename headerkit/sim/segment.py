"""What travels between the modeled endpoints: TCP segments and UDP datagrams (or fragments).

Sequence numbers live in a 32-bit space; compare them with :mod:`headerkit.seqnum`,
never with ``<``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from headerkit import seqnum
from headerkit.flows.flags import NO_FLAGS, Analysis
from headerkit.interop.craft import tcp_options
from headerkit.packet.build import tcp_option_space
from headerkit.packet.layers import TCP, TcpOption
from headerkit.schemas.tcp import FIN, FLAG_LETTERS, SYN


def flag_text(flags: int) -> str:
    """Flags as tcpdump and packetdrill print them: ``S``, ``S.``, ``P.``, ``F.``, ``R``."""
    return "".join(letter for bit, letter in FLAG_LETTERS if flags & bit)


@dataclass(eq=False)
class Segment:
    """One TCP segment; ``window`` is the raw 16-bit header field (unscaled).

    ``labels`` are the simulator's own verdicts on the segment, as the flags flow analysis
    gives a captured one (tshark's ``tcp.analysis.*``).  Options: ``mss``, ``wscale``,
    ``sack_permitted`` (SYN only), ``timestamps`` (TSval, TSecr) and ``sack`` blocks
    (left, right edges as on the wire).
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
    sack_permitted: bool = False
    timestamps: tuple[int, int] | None = None
    sack: tuple[tuple[int, int], ...] = ()

    def __init__(  # by hand: compiled, a generated __init__ would run as Python
        self,
        sport: int,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        window: int,
        payload: bytes = b"",
        mss: int | None = None,
        wscale: int | None = None,
        labels: Analysis = NO_FLAGS,
        sack_permitted: bool = False,
        timestamps: tuple[int, int] | None = None,
        sack: tuple[tuple[int, int], ...] = (),
    ) -> None:
        self.sport, self.dport, self.seq, self.ack = sport, dport, seq, ack
        self.flags, self.window, self.payload = flags, window, payload
        self.mss, self.wscale, self.labels = mss, wscale, labels
        self.sack_permitted, self.timestamps, self.sack = sack_permitted, timestamps, sack

    @property
    def seg_len(self) -> int:
        """Sequence space the segment occupies: data plus one for SYN and one for FIN."""
        return len(self.payload) + (1 if self.flags & SYN else 0) + (1 if self.flags & FIN else 0)

    @property
    def wire_size(self) -> int:
        """Bytes on the wire: IPv4 (20) + TCP (20 + options) + data."""
        shape = (
            self.mss is not None,
            self.wscale is not None,
            self.sack_permitted,
            self.timestamps is not None,
            len(self.sack),
        )
        return 40 + option_length(*shape) + len(self.payload)

    def options(self, sack_base: int = 0) -> list[TcpOption]:
        """The segment's options as Linux lays them out (NOPs for alignment); SACK edges
        less ``sack_base`` (the peer's ISN, for relative numbers)."""
        sack = [(seqnum.add(le, -sack_base), seqnum.add(re, -sack_base)) for le, re in self.sack]
        return tcp_options(
            mss=self.mss,
            wscale=self.wscale,
            sack_perm=self.sack_permitted,
            timestamps=self.timestamps,
            sack=sack,
        )


@functools.cache
def option_length(
    mss: bool, wscale: bool, sack_permitted: bool, timestamps: bool, blocks: int
) -> int:
    """Bytes of TCP options a segment of this shape carries (padding included)."""
    options = tcp_options(
        mss=0 if mss else None,
        wscale=0 if wscale else None,
        sack_perm=sack_permitted,
        timestamps=(0, 0) if timestamps else None,
        sack=[(0, 0)] * blocks,
    )
    return len(tcp_option_space(TCP(options=options)))


@dataclass(eq=False)
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
