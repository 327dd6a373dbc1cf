"""The simulator's model: state table, sequence arithmetic, scenarios and their stories."""

from __future__ import annotations

import pytest

from headerkit import seqnum
from headerkit.flows.flags import Analysis
from headerkit.sim import (
    Call,
    EndpointSpec,
    LinkConfig,
    Result,
    Rule,
    Scenario,
    ScenarioError,
    TcpConfig,
    builtin_names,
    load_scenario,
    scenario_from_toml,
    simulate,
    summary,
    timeline,
    variants,
)
from headerkit.sim.trace import Kind
from headerkit.tcp_states import TRANSITIONS, Event, TransitionError, next_state
from headerkit.tcp_states import TcpState as State


def labels(result: Result, side: int | None = None) -> list[str]:
    found: list[str] = []
    for entry in result.entries:
        if entry.kind is Kind.SEND and entry.packet and (side is None or entry.side == side):
            found.extend(str(flag.name).lower() for flag in entry.packet.labels)
    return found


def state_path(result: Result, side: int) -> list[str]:
    return [e.text for e in result.entries if e.kind is Kind.STATE and e.side == side]


def test_transition_table_covers_all_eleven_states() -> None:
    assert set(TRANSITIONS) == set(State)
    assert len(State) == 11
    assert next_state(State.FIN_WAIT_1, Event.RCV_FIN) is State.CLOSING
    assert next_state(State.TIME_WAIT, Event.TIMEOUT) is State.CLOSED
    with pytest.raises(TransitionError):
        next_state(State.LISTEN, Event.RCV_FIN)


def test_sequence_numbers_wrap() -> None:
    assert seqnum.lt(0xFFFFFFF0, 5)
    assert not seqnum.lt(5, 0xFFFFFFF0)
    assert seqnum.le(7, 7)
    assert seqnum.diff(3, 0xFFFFFFFF) == 4
    assert seqnum.latest(0xFFFFFFF0, 5) == 5


@pytest.mark.parametrize(
    ("variant", "chunks"),
    [
        (None, [b"Hell", b"o", b"Worl", b"d", b""]),
        ("recv10", [b"Hello"]),
        ("recv3-7", [b"Hel", b"lo"]),
        ("slow-reader", [b"Hell", b"oWor", b"ld", b""]),
        ("waitall", [b"HelloWorld"]),
    ],
)
def test_hello_world_recv_chunks(variant: str | None, chunks: list[bytes]) -> None:
    result = simulate(load_scenario("hello-world", variant))
    assert result.streams[0].sends == [b"Hello", b"World"]
    assert result.streams[1].recvs == chunks


def test_closing_with_data_arriving_after_close_resets() -> None:
    result = simulate(load_scenario("hello-world:recv10"))
    assert any(e.packet.flags & 0x04 for e in result.entries if e.kind is Kind.SEND and e.side)


def test_sequence_wraps_inside_a_transfer() -> None:
    near_wrap = TcpConfig(iss=0xFFFFFFFF - 3000)
    scenario = Scenario(
        a=EndpointSpec(
            calls=(Call("send", data=b"x" * 10000), Call("close")), connect=True, tcp=near_wrap
        ),
        b=EndpointSpec(calls=(Call("recv", size=4096, loop=True), Call("close"))),
    )
    result = simulate(scenario)
    assert b"".join(result.streams[1].recvs) == b"x" * 10000
    assert result.states == ("CLOSED", "CLOSED")


def test_nagle_coalesces_and_nodelay_does_not() -> None:
    nagle = simulate(load_scenario("nagle"))
    nodelay = simulate(load_scenario("nagle:nodelay"))
    data_segments = [
        sum(1 for e in r.entries if e.kind is Kind.SEND and e.side == 0 and e.packet.payload)
        for r in (nagle, nodelay)
    ]
    assert data_segments[0] <= 4
    assert data_segments[1] == 20
    assert len(nagle.streams[1].recvs) < len(nodelay.streams[1].recvs)


def test_bulk_segments_by_mss_and_slow_start_grows_cwnd() -> None:
    result = simulate(load_scenario("bulk"))
    sizes = [len(e.packet.payload) for e in result.entries if e.kind is Kind.SEND and e.side == 0]
    assert max(sizes) == 1460
    cwnds = [e.view[1] for e in result.entries if e.kind is Kind.SEND and e.side == 0]
    assert cwnds[-1] >= 4 * cwnds[1]
    small = simulate(load_scenario("bulk:small-mtu"))
    assert max(len(e.packet.payload) for e in small.entries if e.kind is Kind.SEND) == 536


def test_zero_window_story() -> None:
    result = simulate(load_scenario("zero-window"))
    found = labels(result)
    for label in ("zero_window", "zero_window_probe", "window_update", "window_full"):
        assert label in found
    probes = [
        e.time
        for e in result.entries
        if e.kind is Kind.SEND and Analysis.ZERO_WINDOW_PROBE in e.packet.labels
    ]
    closed_at = next(
        e.time
        for e in result.entries
        if e.kind is Kind.ARRIVE and e.side == 0 and e.packet.window == 0
    )
    assert probes[1] - probes[0] == 2 * (probes[0] - closed_at)  # persist backoff
    assert b"".join(result.streams[1].recvs) == b"".join(result.streams[0].sends)


def test_lossy_fast_retransmit_and_timeout() -> None:
    fast = simulate(load_scenario("lossy"))
    assert labels(fast, 0).count("fast_retransmission") == 1
    assert labels(fast, 1).count("duplicate_ack") >= 3
    assert b"".join(fast.streams[1].recvs) == b"".join(fast.streams[0].sends)
    timeout = simulate(load_scenario("lossy:timeout"))
    assert "fast_retransmission" not in labels(timeout)
    assert labels(timeout, 0).count("retransmission") == 1
    assert any("RTO expired" in e.text for e in timeout.entries if e.kind is Kind.TIMER)


def test_close_paths() -> None:
    normal = simulate(load_scenario("close"))
    assert "FIN-WAIT-2 -> TIME-WAIT (FIN)" in state_path(normal, 0)
    assert "CLOSE-WAIT -> LAST-ACK (close)" in state_path(normal, 1)
    both = simulate(load_scenario("close:simultaneous"))
    for side in (0, 1):
        assert "FIN-WAIT-1 -> CLOSING (FIN)" in state_path(both, side)
        assert "CLOSING -> TIME-WAIT (ACK of FIN)" in state_path(both, side)
    half = simulate(load_scenario("close:half-close"))
    assert half.streams[0].recvs == [b"answer", b""]


def test_simultaneous_open_and_lost_syn() -> None:
    both = simulate(load_scenario("handshake:simultaneous-open"))
    for side in (0, 1):
        assert "SYN-SENT -> SYN-RECEIVED (SYN)" in state_path(both, side)
    assert both.streams[0].recvs == [b"pong"]
    lost = simulate(load_scenario("handshake:syn-lost"))
    syns = [
        e.time
        for e in lost.entries
        if e.kind is Kind.SEND and e.side == 0 and e.packet.flags & 0x02
    ]
    assert syns[1] - syns[0] == 1_000_000_000  # initial RTO


def test_udp_keeps_datagrams_whole() -> None:
    result = simulate(load_scenario("udp"))
    assert result.streams[1].recvs == [b"one", b"four", b"three", b"five", b"five"]
    cut = simulate(load_scenario("udp:hello"))
    assert cut.streams[1].recvs == [b"Hell", b"Worl"]
    assert cut.streams[1].truncated == [5, 5]
    frag = simulate(load_scenario("udp:fragment"))
    assert sum(1 for e in frag.entries if e.kind is Kind.SEND) == 3
    assert [len(c) for c in frag.streams[1].recvs] == [3000]
    refused = simulate(load_scenario("udp:refuse"))
    assert any("EMSGSIZE" in e.text for e in refused.entries if e.kind is Kind.RETURN)
    assert [len(c) for c in refused.streams[1].recvs] == [1000]


def test_nonblocking_send_returns_partial_count() -> None:
    scenario = Scenario(
        a=EndpointSpec(
            calls=(Call("send", data=b"z" * 50000, nonblocking=True), Call("close")),
            connect=True,
            tcp=TcpConfig(sndbuf=8192),
        ),
        b=EndpointSpec(calls=(Call("recv", size=65536, loop=True), Call("close"))),
    )
    result = simulate(scenario)
    assert result.streams[0].sends == [b"z" * 8192]
    assert b"".join(result.streams[1].recvs) == b"z" * 8192


def test_scripted_rules_count_matching_packets() -> None:
    scenario = Scenario(
        a=EndpointSpec(calls=(Call("send", data=b"q" * 6000), Call("close")), connect=True),
        b=EndpointSpec(calls=(Call("recv", size=65536, loop=True), Call("close"))),
        a_to_b=LinkConfig(delay=0.01, rules=(Rule("drop", "data", (2,)),)),
        b_to_a=LinkConfig(delay=0.01),
    )
    result = simulate(scenario)
    fates = [
        e.text for e in result.entries if e.kind is Kind.SEND and e.side == 0 and e.packet.payload
    ]
    assert fates[1] == "dropped" and fates.count("dropped") == 1


def test_every_builtin_runs_and_reads_back() -> None:
    assert {"hello-world", "nagle", "bulk", "zero-window", "lossy", "close", "udp"} <= set(
        builtin_names()
    )
    for name in builtin_names():
        for variant in (None, *variants(name)):
            result = simulate(load_scenario(name, variant))
            text = "\n".join([*timeline(result, verbose=True), *summary(result)])
            assert "simulated time" in text


def test_scenario_errors_name_the_problem() -> None:
    with pytest.raises(ScenarioError, match="nosuch"):
        load_scenario("nosuch")
    with pytest.raises(ScenarioError, match="variant"):
        load_scenario("hello-world:nosuch")
    with pytest.raises(ScenarioError, match="colour"):
        scenario_from_toml("[a]\ncolour = 1\n")
    with pytest.raises(ScenarioError, match="unknown call"):
        scenario_from_toml('[a]\ncalls = [{ call = "dance" }]\n')


def test_toml_repeat_and_generated_data() -> None:
    scenario = scenario_from_toml(
        '[a]\ncalls = [{ call = "send", size = 3, repeat = 3, interval = 0.5 }]\n'
    )
    ops = [(c.op, c.data, c.seconds) for c in scenario.a.calls]
    assert ops == [
        ("send", b"abc", 0.0),
        ("sleep", b"", 0.5),
        ("send", b"def", 0.0),
        ("sleep", b"", 0.5),
        ("send", b"ghi", 0.0),
    ]


def test_same_seed_same_trace() -> None:
    scenario = load_scenario("lossy:random")
    first = list(timeline(simulate(scenario), verbose=True))
    second = list(timeline(simulate(scenario), verbose=True))
    assert first == second


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a = 1", "a must be a table"),
        ("[path]\ndelay = inf", "finite"),
        ("variants = 3", "variants must be a table"),
        ("[a]\ncalls = [1]", "a.calls must be a table"),
        ("[path]\nrules = [{nth = 0}]", "nth must be counts from 1"),
        ("[b]\nrcvbuf = true", "number"),
        ("[a]\nnodelay = 1", "true or false"),
        ("[a]\nmin_tso_segs = -1", "a.min_tso_segs must be 0 to 65,535"),
    ],
)
def test_a_hostile_scenario_file_is_a_scenario_error(text: str, words: str) -> None:
    """Fuzz findings and their kin: the loader checks shapes, types and ranges first."""
    with pytest.raises(ScenarioError, match=words):
        scenario_from_toml(text)


def test_segments_arriving_together_are_taken_in_before_the_application_runs() -> None:
    """The data and the FIN reach the server at one instant: the kernel takes both before
    recv(MSG_WAITALL) returns, so the server's close() is a passive close, not a
    simultaneous one."""
    result = simulate(load_scenario("hello-world:waitall"))
    assert state_path(result, 1)[-3:] == [
        "ESTABLISHED -> CLOSE-WAIT (FIN)",
        "CLOSE-WAIT -> LAST-ACK (close)",
        "LAST-ACK -> CLOSED (ACK of FIN)",
    ]
    assert not any("CLOSING" in step for side in (0, 1) for step in state_path(result, side))


def test_the_summary_counts_in_the_singular_and_the_plural() -> None:
    lines = list(summary(simulate(load_scenario("hello-world:waitall"))))
    assert lines[0] == "a -> b: 10 bytes in 2 send() calls; 10 bytes in 1 recv() result"


def _binding_limits(result: Result) -> list[str]:
    """Which of cwnd and the peer's rwnd bound each new data segment a sent, runs merged."""
    runs: list[str] = []
    for entry in result.entries:
        if entry.kind is Kind.SEND and entry.side == 0 and entry.packet.payload:
            _, cwnd, rwnd, *_ = entry.view
            limit = "cwnd" if cwnd < rwnd else "rwnd"
            if not runs or runs[-1] != limit:
                runs.append(limit)
    return runs


def test_window_switch_moves_the_limit_from_cwnd_to_rwnd_and_back() -> None:
    assert _binding_limits(simulate(load_scenario("window"))) == ["cwnd"]
    switch = simulate(load_scenario("window:switch"))
    assert _binding_limits(switch) == ["cwnd", "rwnd", "cwnd"]
    assert b"".join(switch.streams[1].recvs) == b"".join(switch.streams[0].sends)


def test_a_non_blocking_send_takes_what_fits_and_the_summary_says_what_was_not() -> None:
    result = simulate(load_scenario("send:partial"))
    sndbuf = load_scenario("send:partial").a.tcp.sndbuf
    assert result.streams[0].short_sends == [(sndbuf, 200_000)]
    assert [len(s) for s in result.streams[0].sends] == [sndbuf]
    text = "\n".join(summary(result))
    assert (
        f"took {sndbuf} of 200000 bytes: the other {200_000 - sndbuf} bytes were never sent" in text
    )
    blocking = simulate(load_scenario("send"))
    assert [len(s) for s in blocking.streams[0].sends] == [200_000]
    assert not blocking.streams[0].short_sends


def test_sendall_shows_each_send_until_all_is_taken() -> None:
    result = simulate(load_scenario("send:sendall"))
    steps = [e.text for e in result.entries if e.text.startswith("sendall: send(")]
    taken = [int(step.rsplit("= ", 1)[1]) for step in steps]
    assert len(taken) > 3 and sum(taken) == 200_000
    assert taken[0] == load_scenario("send").a.tcp.sndbuf  # the first fills the buffer
    assert b"".join(result.streams[1].recvs) == result.streams[0].sends[0]


@pytest.mark.parametrize(
    ("variant", "client_reads"), [(None, [b"Hello"]), ("no-waitall", [b"Hell"])]
)
def test_the_echo_comes_back_whole_only_with_msg_waitall(
    variant: str | None, client_reads: list[bytes]
) -> None:
    result = simulate(load_scenario("echo" if variant is None else f"echo:{variant}"))
    assert result.streams[1].sends == [b"Hell", b"o"]  # the server echoes each recv(4)
    assert result.streams[0].recvs[: len(client_reads)] == client_reads


def test_the_lecture_exchange_has_its_numbers() -> None:
    result = simulate(load_scenario("seq-ack"))
    data = [e.packet for e in result.entries if e.kind is Kind.SEND and e.packet.payload]
    assert [(p.seq, len(p.payload), p.ack) for p in data] == [(100, 1000, 200)]
    answer = next(
        e.packet
        for e in result.entries
        if e.kind is Kind.SEND and e.side == 1 and e.packet.ack == 1100
    )
    assert (answer.seq, answer.ack, answer.window) == (200, 1100, 8192)
    assert "> P. 100:1100(1000) ack 200" in "\n".join(timeline(result, absolute=True))
