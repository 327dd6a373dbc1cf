"""The TCP endpoint's parts on their own, and the options and profiles they give the model:
the SACK scoreboard and blocks, CUBIC's curve, timestamps, and the linux profile's wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from headerkit.captures.decoded import decode_capture
from headerkit.errors import ScenarioError
from headerkit.flows.flags import Analysis
from headerkit.schemas import tcp as t
from headerkit.schemas.tcp import SYN
from headerkit.sim import Scenario, load_scenario, scenario_from_dict, simulate
from headerkit.sim.clock import NS
from headerkit.sim.engine import Result
from headerkit.sim.pcap import write_pcap
from headerkit.sim.report import summary
from headerkit.sim.scenario import pattern
from headerkit.sim.segment import Segment
from headerkit.sim.tcp.congestion import controller
from headerkit.sim.tcp.congestion.cubic import BETA, C
from headerkit.sim.tcp.profiles import LINUX_RMEM
from headerkit.sim.tcp.sack import Scoreboard, receiver_blocks
from headerkit.sim.trace import Kind

MSS = 1000


def b_port(result: Result) -> int:
    return sent(result, 1)[0].sport


def sent(result: Result, side: int) -> list[Segment]:
    return [
        e.packet
        for e in result.entries
        if e.kind is Kind.SEND and e.side == side and isinstance(e.packet, Segment)
    ]


# -- the scoreboard ------------------------------------------------------------------------
def test_the_scoreboard_merges_blocks_and_forgets_what_is_acknowledged() -> None:
    board = Scoreboard()
    board.update(0, [(3000, 4000)])
    board.update(0, [(5000, 6000), (3000, 4000)])
    board.update(0, [(4000, 5000)])  # fills the gap between the two
    assert board.blocks == [(3000, 6000)]
    board.update(0, [(8000, 9000)])
    assert board.sacked == 4000 and board.blocks[-1] == (8000, 9000)
    board.update(4500, [])  # the cumulative ACK passed part of the first block
    assert board.blocks == [(4500, 6000), (8000, 9000)]
    board.update(4500, [(100, 200)])  # a block below SND.UNA (a D-SACK) changes nothing
    assert board.blocks == [(4500, 6000), (8000, 9000)]


def test_holes_count_as_lost_once_enough_is_sacked_above_them() -> None:
    board = Scoreboard()
    board.update(0, [(1000, 2000)])
    assert board.loss_point(MSS) is None  # one segment above the hole: maybe reordering
    board.update(0, [(3000, 5000)])
    # 3000 bytes SACKed above 0..1000, more than (DupThresh - 1) * MSS: lost; the hole at
    # 2000..3000 has only 2000 above it
    assert board.loss_point(MSS) == 1000
    assert board.next_hole(0, 1000) == (0, 1000)
    assert board.next_hole(1000, 5000) == (2000, 3000)
    assert board.next_hole(5000, 5000) is None
    # 6000 sent: 3000 SACKed, 1000 lost (not yet resent), so 2000 in the pipe
    point = board.loss_point(MSS)
    assert board.pipe(0, 6000, 0, point) == 2000
    assert board.pipe(0, 6000, 1000, point) == 3000  # once resent, the hole is in flight again


def test_the_receiver_reports_the_newest_block_first() -> None:
    pieces = {3000: b"x" * 1000, 4000: b"x" * 500, 7000: b"x" * 1000, 9000: b"x" * 1000}
    assert receiver_blocks(pieces, [7000, 3000, 9000], 3) == [
        (9000, 10000),
        (3000, 4500),
        (7000, 8000),
    ]
    assert receiver_blocks(pieces, [9000], 2) == [(9000, 10000), (3000, 4500)]


# -- CUBIC ---------------------------------------------------------------------------------
def test_cubic_falls_to_beta_and_returns_to_its_plateau_in_k_seconds() -> None:
    cc = controller("cubic", MSS, 10)
    cc.cwnd = cc.ssthresh = 100 * MSS  # in congestion avoidance at 100 segments
    cc.on_loss(100 * MSS, 0)
    assert cc.ssthresh == int(100 * MSS * BETA)
    cc.cwnd = cc.ssthresh
    k = ((100 - 70) / C) ** (1 / 3)  # seconds back to W_max (RFC 9438 eq. 2)
    rtt = NS // 10  # long enough that the cubic curve, not the Reno estimate, leads
    now, window = 0, {}
    while now < 2 * k * NS:
        for _ in range(cc.cwnd // MSS):  # one ACK per segment, a window per RTT
            cc.on_ack(MSS, now, rtt)
        now += rtt
        window[now] = cc.cwnd / MSS
    at_k = min(window, key=lambda t: abs(t - k * NS))
    assert 95 <= window[at_k] <= 106  # back at the plateau after K seconds
    halfway = min(window, key=lambda t: abs(t - k * NS / 2))
    assert window[halfway] > 70 + 0.5 * (window[at_k] - 70)  # concave: fast, then flat
    assert window[max(window)] > 110  # then convex, probing beyond


def test_newreno_halves_and_grows_one_segment_per_window() -> None:
    cc = controller("newreno", MSS, 10)
    cc.cwnd = cc.ssthresh = 20 * MSS
    for _ in range(20):
        cc.on_ack(MSS, 0, None)
    assert cc.cwnd == 21 * MSS
    cc.on_loss(21 * MSS, 0)
    assert cc.ssthresh == 21 * MSS // 2


def test_an_unknown_congestion_control_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="congestion must be one of newreno, cubic"):
        scenario_from_dict({"a": {"congestion": "vegas"}})
    with pytest.raises(ScenarioError, match="profile must be one of rfc, linux"):
        scenario_from_dict({"profile": "bsd"})


# -- SACK and timestamps in a transfer ------------------------------------------------------
def lossy(options: dict[str, object], drops: list[int]) -> Scenario:
    """A 60 kB transfer whose path drops the given data segments, once each."""
    return scenario_from_dict(
        {
            "seed": 5,
            "path": {
                "delay": 0.01,
                "a_to_b": {"rules": [{"action": "drop", "match": "data", "nth": drops}]},
            },
            "a": {
                **options,
                "mss": MSS,
                "sndbuf": 100_000,
                "calls": [{"call": "send", "size": 60_000}, {"call": "close"}],
            },
            "b": {
                **options,
                "mss": MSS,
                "calls": [{"call": "recv", "size": 100_000, "loop": True}, {"call": "close"}],
            },
        }
    )


def test_sack_resends_only_the_holes(tmp_path: Path) -> None:
    drops = [12, 15, 18]  # three holes in one window
    with_sack = simulate(lossy({"sack": True}, drops))
    without = simulate(lossy({}, drops))
    for result in (with_sack, without):
        assert b"".join(result.streams[1].recvs) == b"".join(result.streams[0].sends)
    resent = [s for s in sent(with_sack, 0) if s.labels & Analysis.RETRANSMISSION]
    assert len(resent) == len(drops)  # each hole once, nothing SACKed again
    assert sum(bool(s.sack) for s in sent(with_sack, 1)) >= 3
    assert all(s.sack_permitted for s in sent(with_sack, 0) + sent(with_sack, 1) if s.flags & SYN)
    assert not any(s.sack for s in sent(without, 1))
    write_pcap(with_sack, tmp_path / "sack.pcap")  # the blocks reach the capture (no timestamps)
    blocks = [
        p.tcp.option(t.SACK)
        for p in decode_capture(tmp_path / "sack.pcap")
        if p.tcp is not None and p.tcp.srcport == b_port(with_sack)
    ]
    assert sum(b is not None for b in blocks) == sum(bool(s.sack) for s in sent(with_sack, 1))
    assert with_sack.end < without.end  # NewReno repairs one hole per round trip


def test_timestamps_are_echoed_and_tick_in_milliseconds() -> None:
    result = simulate(lossy({"timestamps": True}, []))
    a, b = sent(result, 0), sent(result, 1)
    assert all(s.timestamps is not None for s in a + b)
    assert a[0].timestamps is not None and a[0].timestamps[1] == 0  # a SYN echoes nothing
    b_values = {s.timestamps[0] for s in b if s.timestamps}
    for seg in a[1:]:
        assert seg.timestamps is not None and seg.timestamps[1] in b_values
    first, last = a[1].timestamps, a[-1].timestamps
    assert first is not None and last is not None
    when = {id(e.packet): e.time for e in result.entries if e.kind is Kind.SEND}
    ticks = when[id(a[-1])] // 1_000_000 - when[id(a[1])] // 1_000_000
    assert (last[0] - first[0]) % 2**32 == ticks > 0
    assert len(a[5].payload) == MSS - 12  # the option's room comes out of each segment


def first_flight(min_tso_segs: int) -> list[Segment]:
    """The data segments of the loss-free transfer's first flight (10 segments, 20 ms RTT)."""
    result = simulate(lossy({"min_tso_segs": min_tso_segs, "sndbuf": 100_000}, []))
    data = [s for s in sent(result, 0) if s.payload]
    return data[:10]


def test_offload_packets_of_several_segments_end_with_psh() -> None:
    """Linux hands its device packets sized to ~1 ms at its pacing rate, at least
    tcp_min_tso_segs; a packet of more than one segment carries PSH on its last."""
    pairs = first_flight(2)
    assert [bool(s.flags & t.PSH) for s in pairs] == [False, True] * 5
    halves = first_flight(10)  # no packet over half the congestion window: two of five
    assert [bool(s.flags & t.PSH) for s in halves] == ([False] * 4 + [True]) * 2
    single = first_flight(0)  # without offload, PSH only where the send buffer empties
    assert not any(s.flags & t.PSH for s in single)


def advertised(rcvbuf: int | None) -> list[int]:
    """The receiver's windows (scaled) through a 4 MB transfer to a reader that keeps up, on
    a path of 2 ms round trips and an Ethernet MSS (the sender's slow start lets the reader
    take more each round trip)."""
    reader: dict[str, object] = {
        "calls": [{"call": "recv", "size": 1 << 16, "loop": True}, {"call": "close"}]
    }
    if rcvbuf is not None:
        reader["rcvbuf"] = rcvbuf
    scenario = scenario_from_dict(
        {
            "seed": 1,
            "profile": "linux",
            "path": {"delay": 0.001},
            "a": {"mss": 1460, "sndbuf": 4 << 20, "calls": [{"call": "send", "size": 4_000_000}]},
            "b": {"mss": 1460, **reader},
        }
    )
    result = simulate(scenario)
    scale = sent(result, 1)[0].wscale or 0
    return [s.window << scale for s in sent(result, 1)[1:] if s.flags & t.ACK]


def test_the_receive_buffer_grows_with_what_the_reader_takes() -> None:
    """Autotuning (Linux's dynamic right-sizing): a reader that keeps up lets the buffer and
    its window grow past the first 64 KiB, never past half of tcp_rmem[2]; a buffer set with
    SO_RCVBUF stays as set."""
    grown = advertised(None)
    assert max(grown) > 8 * 65536
    assert max(grown) <= LINUX_RMEM[2] // 2
    fixed = advertised(65536)  # doubled to 128 KiB, half of it advertised
    assert max(fixed) <= 65536


# -- the linux profile ---------------------------------------------------------------------
def test_the_linux_profile_opens_as_linux_does_on_loopback() -> None:
    result = simulate(load_scenario("hello-world", profile="linux"))
    syn, synack = sent(result, 0)[0], sent(result, 1)[0]
    assert [o.label for o in syn.options()] == ["MSS", "SACK_PERM", "TS", "NOP", "WS"]
    assert (syn.mss, syn.wscale, syn.window) == (65495, 7, 65495)
    assert synack.window == 65483  # whole segments of MSS less the timestamps' 12 bytes
    assert sent(result, 0)[1].window == 512  # half of 128 KiB, in units of 2**7
    assert "profile: linux" in "\n".join(summary(result))
    assert result.streams[1].recvs == simulate(load_scenario("hello-world")).streams[1].recvs


def test_so_rcvbuf_is_doubled_and_the_scale_chosen_for_it() -> None:
    scenario = load_scenario("zero-window", profile="linux")
    assert scenario.b.tcp.rcvbuf == 2 * load_scenario("zero-window").b.tcp.rcvbuf
    assert scenario.b.tcp.rcvbuf_max is None
    result = simulate(scenario)
    assert sent(result, 1)[0].wscale == 0  # 8 KiB fits the window field unscaled
    probes = [s for s in sent(result, 0) if s.labels & Analysis.KEEP_ALIVE]
    assert probes and all(not s.payload for s in probes)


@pytest.mark.parametrize(("profile", "largest"), [("linux", 2048), ("rfc", 4096)])
def test_linux_sends_a_small_window_half_of_it_per_segment(profile: str, largest: int) -> None:
    """A peer whose SYN offers 4 KiB (SO_RCVBUF 4096, doubled, half advertised): Linux cuts
    its segments to half of that (tcp_bound_to_half_wnd), so two can be in flight, as the
    kernel does on loopback; the textbook sender fills the window with one."""
    scenario = scenario_from_dict(
        {
            "profile": profile,
            "path": {"delay": 0.001, "mtu": 65536},
            "a": {"mss": 65495, "calls": [{"call": "send", "size": 20_000}, {"call": "close"}]},
            "b": {
                "mss": 65495,
                "rcvbuf": 4096,
                "calls": [{"call": "recv", "size": 100_000, "loop": True}, {"call": "close"}],
            },
        }
    )
    result = simulate(scenario)
    assert sent(result, 1)[0].window == 4096
    sizes = {len(s.payload) for s in sent(result, 0) if s.payload}
    assert max(sizes) == largest
    assert b"".join(result.streams[1].recvs) == pattern(20_000)


# -- keep-alive ----------------------------------------------------------------------------
def probe_times(result: Result) -> list[int]:
    """When the client sent its keep-alives."""
    return [
        e.time
        for e in result.entries
        if e.kind is Kind.SEND
        and e.side == 0
        and isinstance(e.packet, Segment)
        and e.packet.labels & Analysis.KEEP_ALIVE
    ]


def test_keepalive_probes_an_idle_connection_and_gives_up_on_a_dead_peer() -> None:
    alive = simulate(load_scenario("keepalive"))
    probes = probe_times(alive)
    answers = [s for s in sent(alive, 1) if s.labels & Analysis.KEEP_ALIVE_ACK]
    last_heard = 0.070  # the server's delayed ACK of "Hello" arrives 10 ms later
    assert [round(t / NS, 3) for t in probes] == [round(last_heard + 10.01, 3), 20.1]
    assert len(answers) == len(probes)  # each answer starts the 10 s idle time again
    assert alive.states[1] == "CLOSED" and not alive.streams[1].blocked_in
    dead = simulate(load_scenario("keepalive:dead-peer"))
    probes = probe_times(dead)
    assert [round(t / NS, 2) for t in probes] == [10.08, 15.08, 20.08]  # 5 s apart, unanswered
    assert any("-1 ECONNRESET" in e.text for e in dead.entries if e.kind is Kind.RETURN)
    gave_up = next(e for e in dead.entries if e.kind is Kind.TIMER and "giving up" in e.text)
    assert gave_up.time == probes[-1] + 5 * NS
