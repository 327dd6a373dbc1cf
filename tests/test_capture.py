"""Live capture on loopback: each packet once, counts, errors, and the CLI."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headerkit.captures import live as capture_module
from headerkit.captures import read_capture
from headerkit.captures.live import CaptureError, CapturePermissionError, LiveCapture, capture
from headerkit.cli import capture as capture_cli
from headerkit.packet.decode import decode
from headerkit.schemas.linktypes import LinkType
from tests.test_craft import cli


@pytest.fixture(scope="module")
def can_capture() -> None:
    """Skip (saying why) where packet sockets are refused: they need root or CAP_NET_RAW."""
    try:
        LiveCapture("lo", "udp port 9").start().stop(settle=0)
    except CapturePermissionError as err:
        pytest.skip(f"live capture is not permitted here: {err}")


@pytest.fixture
def udp_sink() -> Iterator[socket.socket]:
    """A UDP socket on a free loopback port, to send datagrams to."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        yield sink


def send_datagrams(sink: socket.socket, count: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for i in range(count):
            sender.sendto(b"datagram %d" % i, sink.getsockname())


def tcp_exchange() -> int:
    """One short TCP connection on loopback; returns the server's port."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port: int = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            conn, _ = server.accept()
            with conn:
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"
    return port


@pytest.mark.usefixtures("can_capture")
def test_loopback_packets_are_kept_once(udp_sink: socket.socket) -> None:
    port = udp_sink.getsockname()[1]
    with (
        LiveCapture("lo", f"udp port {port}") as once,
        LiveCapture("lo", f"udp port {port}", keep_duplicates=True) as both,
    ):
        send_datagrams(udp_sink, 5)
    assert len(once.records) == 5 and once.duplicates == 5
    assert len(both.records) == 10 and both.duplicates == 0
    copies = Counter(r.data for r in both.records)
    assert set(copies.values()) == {2}  # scapy's own socket sees every datagram twice
    assert [r.data for r in once.records] == list(copies)  # in order, each once
    assert [r.number for r in once.records] == [1, 2, 3, 4, 5]
    payloads = [decode(r.data, r.linktype).payload for r in once.records]
    assert payloads == [b"datagram %d" % i for i in range(5)]
    assert {r.linktype for r in once.records} == {LinkType.ETHERNET}


@pytest.mark.usefixtures("can_capture")
def test_a_burst_of_large_packets_is_captured_whole_and_losses_are_counted(
    udp_sink: socket.socket,
) -> None:
    """60 KB datagrams sent as fast as loopback takes them (each seen twice): the default
    buffer holds the burst while Python reads; a buffer smaller than one packet takes one at
    a time and loses the rest, and says so."""
    udp_sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    port = udp_sink.getsockname()[1]
    burst = [bytes([i]) * 60_000 for i in range(150)]
    with (
        LiveCapture("lo", f"udp port {port}") as whole,
        LiveCapture("lo", f"udp port {port}", buffer_size=4096) as starved,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        for data in burst:
            sender.sendto(data, udp_sink.getsockname())
    assert whole.kernel_drops == 0
    assert [decode(r.data, r.linktype).payload for r in whole.records] == burst
    assert starved.kernel_drops > len(burst) // 2 and len(starved.records) < len(burst) // 2


@pytest.mark.usefixtures("can_capture")
def test_a_tcp_handshake_has_one_syn() -> None:
    with LiveCapture("lo", "tcp") as live:
        port = tcp_exchange()
    flags = [
        pkt.tcp.flag_names
        for pkt in (decode(r.data, r.linktype) for r in live.records)
        if pkt.tcp is not None and port in (pkt.tcp.srcport, pkt.tcp.dstport)
    ]
    assert flags.count(["SYN"]) == 1 and flags.count(["SYN", "ACK"]) == 1
    assert any("PSH" in f for f in flags)


@pytest.mark.usefixtures("can_capture")
def test_count_stops_the_capture_and_on_packet_sees_each(udp_sink: socket.socket) -> None:
    seen: list[int] = []
    port = udp_sink.getsockname()[1]
    with LiveCapture("lo", f"udp port {port}", count=3, on_packet=lambda r: seen.append(r.number)):
        send_datagrams(udp_sink, 6)
    assert seen == [1, 2, 3]


@pytest.mark.usefixtures("can_capture")
def test_capture_with_a_timeout_returns_what_came() -> None:
    assert capture("lo", "udp port 9", timeout=0.1) == []


def test_capture_needs_a_way_to_end() -> None:
    with pytest.raises(ValueError, match="count or a timeout"):
        capture("lo")


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise PermissionError(errno.EPERM, "Operation not permitted")


def test_without_permission_the_error_says_what_is_needed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(capture_module, "_OnceSocket", _refuse)
    with pytest.raises(CapturePermissionError) as caught:
        LiveCapture("lo").start()
    message = str(caught.value)
    assert "root" in message and "CAP_NET_RAW" in message and "setcap" in message
    assert isinstance(caught.value, PermissionError)
    assert cli(capture_cli, "capture", "--count", "1") == 1
    assert "needs root or the CAP_NET_RAW capability" in capsys.readouterr().err


@pytest.mark.usefixtures("can_capture")
def test_an_unknown_interface_is_named() -> None:
    with pytest.raises(CaptureError, match="cannot capture on nosuchif0"):
        LiveCapture("nosuchif0").start()


@pytest.mark.usefixtures("can_capture")
def test_cli_captures_count_packets_to_a_file(
    tmp_path: Path, udp_sink: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lo.pcapng"
    port = udp_sink.getsockname()[1]
    argv = ["capture", "-i", "lo", "-f", f"udp port {port}", "-c", "4", "--timeout", "10"]
    status: list[int] = []
    runner = threading.Thread(target=lambda: status.append(cli(capture_cli, *argv, "-o", str(out))))
    runner.start()
    while runner.is_alive():  # datagrams sent before the socket opened are not seen: resend
        send_datagrams(udp_sink, 1)
        time.sleep(0.02)
    assert status == [0]
    records = list(read_capture(out))
    assert len(records) == 4
    assert all(decode(r.data, r.linktype).udp is not None for r in records)
    printed = capsys.readouterr()
    assert printed.out.count(f"→ 127.0.0.1:{port} UDP") == 4
    assert "captured 4 packets (4 loopback duplicates dropped)" in printed.err


@pytest.mark.usefixtures("can_capture")
def test_a_bad_filter_is_named() -> None:
    with pytest.raises(CaptureError, match="cannot capture on lo: Cannot set filter"):
        LiveCapture("lo", "tcp port banana").start()
