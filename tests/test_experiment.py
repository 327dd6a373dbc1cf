"""The boundaries experiment, run for real on loopback sockets, and its committed captures."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from headerkit.captures import read_capture
from headerkit.cli import experiment as experiment_cli
from headerkit.interop.experiment import FrameKind, Run, boundaries, echo, partial_send
from headerkit.packet.decode import decode
from tests.test_capture import can_capture  # noqa: F401 - the fixture
from tests.test_craft import cli

PCAPS = Path(__file__).resolve().parents[1] / "pcaps"
HELLO_WORLD = [b"Hello", b"World"]
GAP = 0.05  # between the client's sends
SLOW = 0.4  # a reader this late finds both sends waiting in its buffer


def data_flags(run: Run) -> list[list[str]]:
    return [p.tcp.flag_names for p in run.packets if p.tcp is not None and p.payload]


@pytest.mark.usefixtures("can_capture")
def test_tcp_slow_reader_gets_chunks_that_are_not_the_sends() -> None:
    run = boundaries("tcp", HELLO_WORLD, recv_sizes=[4], gap=GAP, server_delay=SLOW)
    assert run.sends == HELLO_WORLD
    assert run.wire_payloads == HELLO_WORLD  # two segments on the wire...
    assert data_flags(run) == [["PSH", "ACK"], ["PSH", "ACK"]]
    assert run.recvs == [b"Hell", b"oWor", b"ld"]  # ...but three reads of one stream
    assert b"".join(run.recvs) == b"".join(run.sends)
    flags = [p.tcp.flag_names for p in run.packets if p.tcp is not None]
    assert flags[:3] == [["SYN"], ["SYN", "ACK"], ["ACK"]]
    assert flags.count(["FIN", "ACK"]) == 2 and flags[-1] == ["ACK"]


@pytest.mark.usefixtures("can_capture")
@pytest.mark.parametrize(
    "sizes,delay,expected",
    [
        ([4], 0.0, None),
        ([10], 0.0, None),
        ([1], 0.0, None),
        # a slow reader finds the whole stream waiting: each read is as full as it may be
        ([10], SLOW, [b"HelloWorld"]),
        ([3, 7], SLOW, [b"Hel", b"loWorld"]),
    ],
)
def test_tcp_delivers_the_bytes_in_order_whatever_the_reads(
    sizes: list[int], delay: float, expected: list[bytes] | None
) -> None:
    run = boundaries("tcp", HELLO_WORLD, recv_sizes=sizes, gap=GAP, server_delay=delay)
    assert b"".join(run.recvs) == b"HelloWorld"
    reads = [c for c in run.calls if c.name.startswith("recv")]
    assert all(len(c.data) <= int(c.name[5:-1]) for c in reads)
    assert reads[-1].data == b""  # the end of the stream
    if expected is not None:
        assert run.recvs == expected


@pytest.mark.usefixtures("can_capture")
def test_udp_keeps_every_datagram_even_for_a_slow_reader() -> None:
    run = boundaries("udp", HELLO_WORLD, gap=GAP, server_delay=SLOW)
    assert run.recvs == run.sends == HELLO_WORLD
    assert run.wire_payloads == HELLO_WORLD
    assert [p.udp.length for p in run.packets if p.udp is not None] == [13, 13]


@pytest.mark.usefixtures("can_capture")
def test_udp_reads_too_small_lose_the_rest_of_the_datagram() -> None:
    run = boundaries("udp", HELLO_WORLD, recv_sizes=[4], gap=0.0)
    assert run.recvs == [b"Hell", b"Worl"]
    assert all("truncated" in c.note for c in run.calls if c.name.startswith("recvfrom"))


@pytest.mark.usefixtures("can_capture")
@pytest.mark.parametrize("frame", ["lines", "length"])
def test_a_framer_recovers_the_messages_from_the_chunks(frame: FrameKind) -> None:
    run = boundaries("tcp", HELLO_WORLD, recv_sizes=[3], gap=GAP, server_delay=SLOW, frame=frame)
    assert run.recvs != run.sends
    assert run.messages == HELLO_WORLD
    assert run.sends[0] == (b"Hello\n" if frame == "lines" else b"\0\0\0\x05Hello")


@pytest.mark.usefixtures("can_capture")
def test_the_experiment_runs_over_ipv6() -> None:
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError as err:
        pytest.skip(f"no IPv6 loopback here: {err}")
    run = boundaries("tcp", HELLO_WORLD, gap=0.0, host="::1")
    assert b"".join(run.recvs) == b"HelloWorld"
    assert {p.ip.version for p in run.packets if p.ip is not None} == {6}


def test_without_capture_the_calls_are_still_recorded() -> None:
    run = boundaries("udp", HELLO_WORLD, gap=0.0, capture=False)
    assert run.records == [] and run.recvs == HELLO_WORLD
    with pytest.raises(ValueError, match="no framing"):
        _ = run.messages


def test_recv_sizes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        boundaries(recv_sizes=[0], capture=False)


@pytest.mark.usefixtures("can_capture")
def test_cli_prints_the_three_views_and_writes_the_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run.pcap"
    argv = ["experiment", "boundaries", "--recv", "4", "--gap", str(GAP)]
    assert cli(experiment_cli, *argv, "--server-delay", str(SLOW), "-o", str(out)) == 0
    printed = capsys.readouterr().out
    assert "send('Hello') = 5" in printed and "send('World') = 5" in printed
    assert printed.count("[PSH, ACK]") == 2
    for chunk in ("'Hell'", "'oWor'", "'ld'"):
        assert f"recv(4) → {chunk}" in printed
    assert "recv() calls      'Hell' | 'oWor' | 'ld'" in printed
    assert "TCP kept no send() boundaries" in printed
    packets = [decode(r.data, r.linktype) for r in read_capture(out)]
    assert [p.payload for p in packets if p.payload] == HELLO_WORLD


def test_cli_reports_a_capture_it_may_not_make(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from headerkit.captures import live as capture

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(capture, "_OnceSocket", refuse)
    assert cli(experiment_cli, "experiment", "boundaries", "--gap", "0") == 1
    assert "CAP_NET_RAW" in (err := capsys.readouterr().err) and "--no-capture" in err
    argv = ["experiment", "boundaries", "--proto", "udp", "--gap", "0", "--no-capture"]
    assert cli(experiment_cli, *argv) == 0
    assert "(nothing captured)" in capsys.readouterr().out


@pytest.mark.usefixtures("can_capture")
def test_a_nonblocking_send_takes_fewer_bytes_and_sendall_hands_over_the_rest() -> None:
    size = 30_000
    run = partial_send(size, sndbuf=4096, rcvbuf=4096, server_delay=0.3)
    sends = [c for c in run.calls if c.side == "client" and c.name == "send"]
    assert 0 < (sends[0].result or 0) < size  # send() took what fitted and said how much
    assert "bytes not taken" in sends[0].note
    assert any(c.note.startswith("sendall() loop") for c in sends)
    assert sum(len(d) for d in run.sends) == size
    assert b"".join(run.recvs) == b"".join(run.sends)  # every byte once, in order
    on_wire = sum(len(p.payload) for p in run.packets if p.tcp and p.tcp.dstport == run.port)
    assert on_wire == size


@pytest.mark.usefixtures("can_capture")
def test_msg_waitall_waits_for_the_whole_echo_a_plain_recv_reads_short() -> None:
    whole = echo(HELLO_WORLD, waitall=True, recv_size=4, gap=0.2, echo_delay=0.2)
    assert whole.echoed == whole.recvs  # the server sent back what each recv() returned
    assert b"".join(whole.echoed) == b"HelloWorld" and max(map(len, whole.echoed)) <= 4
    assert whole.client_recvs == [b"HelloWorld"]  # one recv(10, MSG_WAITALL)
    # the plain recv() comes right after the second send(), before its echo is back
    short = echo(HELLO_WORLD, waitall=False, recv_size=4, gap=0.2, echo_delay=0.2)
    assert b"".join(short.client_recvs) == b"HelloWorld"
    first = short.client_recvs[0]
    assert len(short.client_recvs) > 1 and 0 < len(first) < 10  # a short read
    reads = [c for c in short.calls if c.side == "client" and c.name.startswith("recv")]
    assert reads[0].note == f"short read: {len(first)} of 10 bytes"


@pytest.mark.usefixtures("can_capture")
def test_cli_prints_partial_send_and_echo(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(experiment_cli, "experiment", "partial-send", "--server-delay", "0.2") == 0
    printed = capsys.readouterr().out
    assert "send() took       " in printed and "bytes were not taken" in printed
    assert "all 30000 bytes arrived, in order." in printed
    assert cli(experiment_cli, "experiment", "echo") == 0
    printed = capsys.readouterr().out
    assert "recv(10, MSG_WAITALL) → 'HelloWorld'" in printed
    assert "With MSG_WAITALL one recv(10) waited for all 10 bytes" in printed


# ---------------------------------------------------------------- the committed captures


def test_the_default_capture_shows_handshake_two_sends_and_close() -> None:
    packets = [
        decode(r.data, r.linktype) for r in read_capture(PCAPS / "tcp-hello-world-slow-reader.pcap")
    ]
    flags = [p.tcp.flag_names for p in packets if p.tcp is not None]
    assert len(flags) == len(packets)
    assert flags[:3] == [["SYN"], ["SYN", "ACK"], ["ACK"]]
    assert [p.payload for p in packets if p.payload] == HELLO_WORLD
    assert [f for f, p in zip(flags, packets, strict=True) if p.payload] == [["PSH", "ACK"]] * 2
    assert flags.count(["FIN", "ACK"]) == 2


def test_the_udp_capture_holds_two_datagrams() -> None:
    packets = [decode(r.data, r.linktype) for r in read_capture(PCAPS / "udp-hello-world.pcap")]
    assert [p.payload for p in packets] == HELLO_WORLD
    assert all(p.udp is not None for p in packets)
