"""Properties of the TCP model over random scenarios with loss, duplication and reordering."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headerkit.flows.flags import Analysis
from headerkit.schemas.tcp import ACK, FIN, SYN
from headerkit.sim import (
    Call,
    EndpointSpec,
    LinkConfig,
    Scenario,
    Simulation,
    TcpConfig,
    TcpEndpoint,
    timeline,
)
from headerkit.sim.scenario import pattern
from headerkit.sim.segment import Segment
from headerkit.sim.trace import Kind

RETRANSMISSION = Analysis.RETRANSMISSION
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    sizes = draw(st.lists(st.integers(1, 6000), min_size=1, max_size=6))
    offset = 0
    sends = []
    for size in sizes:
        sends.append(Call("send", data=pattern(size, offset)))
        offset += size
        if draw(st.booleans()):
            sends.append(Call("sleep", seconds=draw(st.sampled_from([0.001, 0.05, 0.3]))))
    reads = []
    if draw(st.booleans()):
        reads.append(Call("sleep", seconds=draw(st.sampled_from([0.1, 0.5, 2.0]))))
    reads.append(Call("recv", size=draw(st.integers(1, 9000)), loop=True))
    mss = draw(st.sampled_from([100, 536, 1460]))
    sack, timestamps = draw(st.booleans()), draw(st.booleans())
    sender = TcpConfig(
        sack=sack,
        timestamps=timestamps,
        congestion=draw(st.sampled_from(["newreno", "cubic"])),
        mss=mss,
        sndbuf=draw(st.sampled_from([2048, 16384, 65536])),
        nodelay=draw(st.booleans()),
        initial_cwnd=draw(st.sampled_from([1, 2, 10])),
    )
    receiver = TcpConfig(
        sack=sack,
        timestamps=timestamps,
        mss=mss,
        rcvbuf=draw(st.sampled_from([700, 3000, 20000, 200000])),
        delayed_ack=draw(st.booleans()),
    )

    def link() -> LinkConfig:
        return LinkConfig(
            delay=draw(st.sampled_from([0.0005, 0.01, 0.05])),
            bandwidth=draw(st.sampled_from([0.0, 1e6, 1e8])),
            loss=draw(st.sampled_from([0.0, 0.02, 0.1])),
            duplicate=draw(st.sampled_from([0.0, 0.05])),
            reorder=draw(st.sampled_from([0.0, 0.1])),
            reorder_delay=0.02,
        )

    return Scenario(
        seed=draw(st.integers(0, 2**32)),
        until=3600.0,
        a=EndpointSpec(calls=(*sends, Call("close")), connect=True, tcp=sender),
        b=EndpointSpec(calls=(*reads, Call("close")), tcp=receiver),
        a_to_b=link(),
        b_to_a=link(),
    )


def check_endpoint(tcp: TcpEndpoint) -> None:
    """Buffer invariants that hold between any two events."""
    rcvbuf = tcp.config.rcvbuf
    rcv = tcp.rcv
    assert len(rcv.rcvq) + rcv.ooo_bytes <= rcvbuf  # the buffer never overflows
    assert rcv.ooo_bytes == sum(len(piece) for piece in rcv.ooo.values())
    assert len(rcv.rcvq) + rcv.rcv_wnd <= rcvbuf  # the promised window fits in free space
    assert len(tcp.snd.sndq) <= tcp.config.sndbuf


def run_checked(scenario: Scenario) -> Simulation:
    sim = Simulation(scenario)
    while sim.step():
        for sock in sim.socks:
            assert isinstance(sock, TcpEndpoint)
            check_endpoint(sock)
    return sim


@PROPERTY
@given(scenarios())
def test_transfer_is_exact_and_windows_are_respected(scenario: Scenario) -> None:
    sim = run_checked(scenario)
    result = sim.run()
    sent = b"".join(result.streams[0].sends)
    # a reader that keeps reading always gets everything, once, in order (no deadlock)
    assert b"".join(result.streams[1].recvs) == sent
    assert result.streams[1].recvs[-1] == b""
    # both ends reach CLOSED (TIME-WAIT has expired by the end)
    assert result.states == ("CLOSED", "CLOSED")
    rcvbufs = (scenario.a.tcp.rcvbuf, scenario.b.tcp.rcvbuf)
    offered: list[int | None] = [None, None]
    for entry in result.entries:
        if entry.kind is not Kind.SEND:
            continue
        seg = entry.packet
        assert isinstance(seg, Segment)
        flight, cwnd, rwnd, _, rcvq = entry.view
        if seg.flags & SYN:
            offered[entry.side] = seg.wscale
            continue
        shift = offered[entry.side] if None not in offered else 0
        scaled = seg.window << (shift or 0)
        if seg.flags & ACK:
            # the advertised window never exceeds the free receive buffer
            assert scaled <= rcvbufs[entry.side] - rcvq
        new_data = seg.payload and not seg.labels & (RETRANSMISSION | Analysis.ZERO_WINDOW_PROBE)
        if new_data:
            # unacknowledged (new) bytes never exceed min(cwnd, rwnd); in SACK recovery
            # cwnd bounds the pipe, which leaves out what was SACKed (RFC 6675), so only rwnd
            limit = rwnd if scenario.a.tcp.sack else min(cwnd, rwnd)
            assert flight - (1 if seg.flags & FIN else 0) <= limit


@settings(max_examples=20, deadline=None)
@given(scenarios())
def test_same_seed_same_trace(scenario: Scenario) -> None:
    first = Simulation(scenario).run()
    second = Simulation(scenario).run()
    assert list(timeline(first, verbose=True)) == list(timeline(second, verbose=True))
