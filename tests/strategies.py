"""Hypothesis strategies for valid header values."""

from __future__ import annotations

from hypothesis import strategies as st

from headerkit.packet.layers import TCP, UDP, IPv4, IPv6, TcpOption
from headerkit.schemas import tcp as t

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
ipv4_addr = st.ip_addresses(v=4).map(str)
ipv6_addr = st.ip_addresses(v=6).map(lambda a: a.compressed)


def tcp_option() -> st.SearchStrategy[TcpOption]:
    return st.one_of(
        st.just(TcpOption(t.NOP)),
        u16.map(lambda v: TcpOption(t.MSS, 4, v)),
        st.integers(0, 14).map(lambda v: TcpOption(t.WINDOW_SCALE, 3, v)),
        st.just(TcpOption(t.SACK_PERMITTED, 2, None)),
        st.lists(st.tuples(u32, u32), min_size=1, max_size=4).map(
            lambda b: TcpOption(t.SACK, 2 + 8 * len(b), tuple(b))
        ),
        st.tuples(u32, u32).map(lambda v: TcpOption(t.TIMESTAMPS, 10, v)),
        st.binary(min_size=16, max_size=16).map(lambda v: TcpOption(t.MD5_SIGNATURE, 18, v)),
        st.tuples(st.booleans(), st.integers(0, 0x7FFF)).map(
            lambda v: TcpOption(t.USER_TIMEOUT, 4, v)
        ),
        st.tuples(u8, u8, st.binary(max_size=12)).map(
            lambda v: TcpOption(t.TCP_AO, 4 + len(v[2]), v)
        ),
        st.tuples(st.integers(0, 15), st.integers(0, 15), st.binary(max_size=20)).map(
            lambda v: TcpOption(t.MPTCP, 3 + len(v[2]), v)
        ),
        st.binary(max_size=16).map(lambda v: TcpOption(t.FAST_OPEN, 2 + len(v), v)),
        st.tuples(u16, st.binary(max_size=8)).map(
            lambda v: TcpOption(t.EXPERIMENTAL, 4 + len(v[1]), v)
        ),
        st.tuples(st.sampled_from([6, 7, 27, 99, 200]), st.binary(max_size=6)).map(
            lambda v: TcpOption(v[0], 2 + len(v[1]), v[1])
        ),
    )


def tcp_options() -> st.SearchStrategy[list[TcpOption]]:
    """Option lists that fit the 40-byte option space, padding included."""

    def size(opts: list[TcpOption]) -> int:
        return sum(o.length or 1 for o in opts)

    return st.lists(tcp_option(), max_size=8).filter(lambda o: size(o) + (-size(o) % 4) <= 40)


@st.composite
def tcp_segment(draw: st.DrawFn) -> TCP:
    return TCP(
        srcport=draw(u16),
        dstport=draw(u16),
        seq=draw(u32),
        ack=draw(u32),
        flags=draw(st.integers(0, 0xFFF)),
        window=draw(u16),
        urgent_pointer=draw(u16),
        options=draw(tcp_options()),
    )


@st.composite
def udp_datagram(draw: st.DrawFn) -> UDP:
    return UDP(srcport=draw(u16), dstport=draw(u16))


@st.composite
def ipv4_header(draw: st.DrawFn, protocol: int) -> IPv4:
    return IPv4(
        tos=draw(u8),
        identification=draw(u16),
        flags=draw(st.sampled_from([0, 2, 4, 6])),
        ttl=draw(u8),
        protocol=protocol,
        src=draw(ipv4_addr),
        dst=draw(ipv4_addr),
    )


@st.composite
def ipv6_header(draw: st.DrawFn, next_header: int) -> IPv6:
    return IPv6(
        traffic_class=draw(u8),
        flow_label=draw(st.integers(0, 0xFFFFF)),
        next_header=next_header,
        hop_limit=draw(u8),
        src=draw(ipv6_addr),
        dst=draw(ipv6_addr),
    )
