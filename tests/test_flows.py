"""The flow table on crafted conversations: stream numbers, windows, relative numbers, tshark's
analysis flags (each case checked against tshark 4.0 when it was written), connection states
and ``headerkit flows``."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import pytest

from headerkit import craft, seqnum
from headerkit.cli import flows as flows_cli
from headerkit.errors import HeaderkitWarning
from headerkit.flows import FlowTable, TcpState, annotate
from headerkit.flows.table import Endpoint, tshark_sides
from headerkit.packet.decode import Packet, decode
from headerkit.schemas.linktypes import LinkType

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 80)
MS = 1_000_000


class Talk:
    """A TCP conversation built segment by segment; ``c``/``s`` send from client/server."""

    def __init__(self, client: tuple[str, int] = CLIENT, server: tuple[str, int] = SERVER):
        self.ends = {"c": (client, server), "s": (server, client)}
        self.crafted: list[craft.Crafted] = []
        self.times: list[int] = []

    def send(
        self,
        side: str,
        seq: int,
        ack: int,
        flags: str,
        payload: bytes = b"",
        *,
        at: float,
        window: int = 1000,
        **kw: Any,
    ) -> Talk:
        (src, sport), (dst, dport) = self.ends[side]
        self.crafted.append(
            craft.tcp(
                src=src,
                dst=dst,
                sport=sport,
                dport=dport,
                seq=seq % 2**32,
                ack=ack % 2**32,
                flags=flags,
                payload=payload,
                window=window,
                **kw,
            )
        )
        self.times.append(round(at * MS))
        return self

    def c(self, seq: int, ack: int, flags: str, payload: bytes = b"", **kw: Any) -> Talk:
        return self.send("c", seq, ack, flags, payload, **kw)

    def s(self, seq: int, ack: int, flags: str, payload: bytes = b"", **kw: Any) -> Talk:
        return self.send("s", seq, ack, flags, payload, **kw)

    def handshake(self, cisn: int = 1000, sisn: int = 5000, **kw: Any) -> Talk:
        """SYN at 0 ms, SYN,ACK at 100 ms, ACK at 200 ms (the first RTT is 200 ms)."""
        cws, sws = kw.pop("cws", None), kw.pop("sws", None)
        self.c(cisn, 0, "S", at=0, wscale=cws)
        self.s(sisn, cisn + 1, "SA", at=100, wscale=sws)
        return self.c(cisn + 1, sisn + 1, "A", at=200)

    @property
    def packets(self) -> list[Packet]:
        out = []
        for number, (c, t) in enumerate(zip(self.crafted, self.times, strict=True), 1):
            pkt = c.packet
            pkt.number, pkt.timestamp_ns = number, t
            out.append(pkt)
        return out

    def fields(self) -> list[dict[str, Any]]:
        return [f for _, f in annotate(self.packets)]

    def flags(self) -> list[set[str]]:
        """The tshark analysis flags of each packet, short names."""
        return [
            {
                k.removeprefix("tcp.analysis.")
                for k, v in f.items()
                if k.startswith("tcp.analysis.") and v is True
            }
            - {"flags"}
            for f in self.fields()
        ]

    def write(self, path: Path) -> Path:
        craft.write(path, self.crafted, start_ns=10**18, offsets_ns=self.times)
        return path


def test_serial_arithmetic_wraps() -> None:
    assert seqnum.lt(2**32 - 10, 5) and seqnum.gt(5, 2**32 - 10)
    assert seqnum.add(2**32 - 1, 2) == 1
    assert seqnum.diff(3, 2**32 - 2) == 5 and seqnum.diff(2**32 - 2, 3) == -5
    assert seqnum.unwrap(10, 2**32 - 6, 100) == 116  # 16 bytes past the wrap
    assert seqnum.le(7, 7) and seqnum.ge(7, 7)


def test_streams_are_numbered_per_protocol_in_order_of_appearance() -> None:
    pkts = [
        craft.udp(sport=53, dport=5353).packet,
        craft.tcp(sport=1, dport=2, flags="S").packet,
        craft.tcp(src="10.0.0.2", dst="10.0.0.1", sport=2, dport=1, flags="SA").packet,
        craft.tcp(sport=3, dport=2, flags="S").packet,
        craft.udp(src="10.0.0.2", dst="10.0.0.1", sport=5353, dport=53).packet,
        craft.udp(sport=9, dport=9).packet,
    ]
    got = [f.get("tcp.stream", f.get("udp.stream")) for _, f in annotate(pkts)]
    assert got == [0, 0, 0, 1, 0, 1]


def test_packets_without_a_transport_header_get_no_fields() -> None:
    # 10 bytes of TCP header: tshark gives up before the conversation
    pkt = decode(craft.tcp(sport=1, dport=2).data[:30], LinkType.RAW)
    assert pkt.tcp is not None
    assert [f for _, f in annotate([pkt])] == [{}]


def test_window_scaling_from_both_syns() -> None:
    talk = Talk().handshake(cws=7, sws=2)
    talk.s(5001, 1001, "A", at=300, window=100)
    f = talk.fields()
    assert "tcp.window_size_scalefactor" not in f[0]  # tshark shows none on SYNs
    assert (f[0]["tcp.window_size"], f[1]["tcp.window_size"]) == (1000, 1000)
    assert (f[2]["tcp.window_size_scalefactor"], f[2]["tcp.window_size"]) == (128, 128000)
    assert (f[3]["tcp.window_size_scalefactor"], f[3]["tcp.window_size"]) == (4, 400)


@pytest.mark.parametrize(("cws", "sws"), [(None, None), (None, 3), (7, None)])
def test_scaling_needs_the_option_in_both_syns(cws: int | None, sws: int | None) -> None:
    f = Talk().handshake(cws=cws, sws=sws).s(5001, 1001, "A", at=300).fields()
    assert f[2]["tcp.window_size_scalefactor"] == f[3]["tcp.window_size_scalefactor"] == -2
    assert f[2]["tcp.window_size"] == 1000


def test_scale_unknown_without_the_handshake_and_shift_capped_at_14() -> None:
    f = Talk().s(5001, 1001, "A", at=0).fields()
    assert (f[0]["tcp.window_size_scalefactor"], f[0]["tcp.window_size"]) == (-1, 1000)
    f = Talk().handshake(cws=15, sws=15).c(1001, 5001, "A", at=300, window=2).fields()
    assert (f[3]["tcp.window_size_scalefactor"], f[3]["tcp.window_size"]) == (16384, 32768)


def test_relative_numbers_across_the_wrap() -> None:
    isn = 2**32 - 10
    talk = Talk().handshake(cisn=isn)
    talk.c(isn + 1, 5001, "PA", b"x" * 100, at=300)
    talk.s(5001, isn + 101, "A", at=400)
    f = talk.fields()
    assert [x["tcp.seq"] for x in f] == [0, 0, 1, 1, 1]
    assert [x["tcp.ack"] for x in f[1:]] == [1, 1, 1, 101]
    assert f[3]["tcp.window_size"] == 1000 and "tcp.analysis.flags" not in f[3]
    assert "tcp.seq" not in next(annotate(talk.packets, relative=False))[1]


def test_retransmission_out_of_order_and_spurious() -> None:
    talk = Talk().handshake()
    for i in range(3):
        talk.s(5001 + 100 * i, 1001, "PA", b"d" * 100, at=300 + i)
    talk.s(5101, 1001, "PA", b"d" * 100, at=310)  # within the first RTT: out of order
    talk.s(5001, 1001, "PA", b"d" * 100, at=900)  # long after: retransmission
    talk.c(1001, 5301, "A", at=950)
    talk.s(5201, 1001, "PA", b"d" * 100, at=1500)  # already acknowledged: spurious
    flags = talk.flags()
    assert flags[6] == {"out_of_order"}
    assert flags[7] == {"retransmission"}
    assert flags[9] == {"retransmission", "spurious_retransmission"}


def test_duplicate_acks_numbered_then_a_fast_retransmission() -> None:
    talk = Talk().handshake()
    talk.s(5001, 1001, "PA", b"a" * 10, at=300).s(5011, 1001, "PA", b"b" * 10, at=301)
    talk.c(1001, 5001, "A", at=302).c(1001, 5001, "A", at=303).c(1001, 5001, "A", at=304)
    talk.s(5001, 1001, "PA", b"a" * 10, at=305)
    fields = talk.fields()
    # the handshake's ACK already had this seq, ack and window: the first repeat is #1
    assert [f.get("tcp.analysis.duplicate_ack_num") for f in fields[5:8]] == [1, 2, 3]
    assert talk.flags()[8] == {"fast_retransmission", "retransmission"}


def test_zero_window_probe_update_and_full() -> None:
    talk = Talk().handshake()
    talk.s(5001, 1001, "PA", b"z" * 10, at=300)
    talk.c(1001, 5011, "A", at=301, window=0)  # receiver full
    talk.s(5011, 1001, "A", b"p", at=500)  # one byte into a zero window
    talk.c(1001, 5011, "A", at=501, window=0)  # ... answered
    talk.c(1001, 5011, "A", at=600, window=20)  # the window opens
    talk.s(5011, 1001, "PA", b"f" * 20, at=601)  # and is filled to its edge
    flags = talk.flags()
    assert flags[4] == {"zero_window"}
    assert flags[5] == {"zero_window_probe"}
    assert flags[6] == {"zero_window", "zero_window_probe_ack"}
    assert flags[7] == {"window_update"}
    assert flags[8] == {"window_full"}


def test_keep_alive_and_its_ack() -> None:
    talk = Talk().handshake()
    talk.c(1000, 5001, "A", at=60_000)
    talk.s(5001, 1001, "A", at=60_001)
    assert talk.flags()[3:] == [{"keep_alive"}, {"keep_alive_ack"}]


def test_lost_segment_and_acked_unseen_segment() -> None:
    talk = Talk().handshake()
    talk.s(5101, 1001, "PA", b"l" * 10, at=300)  # 100 bytes never captured before it
    talk.s(5111, 1021, "A", at=301)  # acknowledges 20 client bytes never seen
    talk.s(5111, 1031, "A", at=302)  # tshark reports that once per hole
    assert talk.flags()[3:] == [{"lost_segment"}, {"ack_lost_segment"}, set()]


def test_new_syn_on_the_same_ports_starts_a_new_stream() -> None:
    talk = Talk().handshake()
    talk.c(1001, 5001, "FA", at=300).s(5001, 1002, "FA", at=301).c(1002, 5002, "A", at=302)
    talk.c(9000, 0, "S", at=400)
    fields = talk.fields()
    assert [f["tcp.stream"] for f in fields] == [0] * 6 + [1]
    assert fields[6]["tcp.analysis.reused_ports"] is True


def test_tshark_sides_compare_addresses_then_ports() -> None:
    a, b = Endpoint("10.0.0.2", 1), Endpoint("10.0.0.1", 2)
    assert tshark_sides(a, b) == (0, 1) and tshark_sides(b, a) == (1, 0)
    same = Endpoint("127.0.0.1", 7)
    assert tshark_sides(same, same) == (1, 1)


def table_of(talk: Talk) -> FlowTable:
    table = FlowTable()
    for pkt in talk.packets:
        table.add(pkt)
    return table


def test_normal_close_states_and_history() -> None:
    talk = Talk().handshake()
    talk.c(1001, 5001, "PA", b"hi", at=300).s(5001, 1003, "PA", b"yo", at=301)
    talk.c(1003, 5003, "FA", at=302)
    conn = table_of(talk).tcp[0].connection
    assert conn is not None
    # the server is not seen to have taken the FIN until it acknowledges it
    assert (conn.state(0), conn.state(1)) == (TcpState.FIN_WAIT_1, TcpState.ESTABLISHED)
    assert conn.half_closed and conn.handshake_seen
    talk.s(5003, 1004, "A", at=303)
    conn = table_of(talk).tcp[0].connection
    assert conn is not None
    assert (conn.state(0), conn.state(1)) == (TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT)
    talk.s(5003, 1004, "FA", at=304).c(1004, 5004, "A", at=305)
    flow = table_of(talk).tcp[0]
    conn = flow.connection
    assert conn is not None
    assert (conn.state(0), conn.state(1)) == (TcpState.TIME_WAIT, TcpState.CLOSED)
    assert (conn.conn_state, conn.history) == ("SF", "ShADdFaf")
    assert (flow.a_to_b.packets, flow.b_to_a.packets, flow.a_to_b.payload) == (5, 4, 2)


@pytest.mark.parametrize(
    ("build", "zeek", "states"),
    [
        (lambda t: t.c(1000, 0, "S", at=0), "S0", ("SYN-SENT", "LISTEN")),
        (lambda t: t.c(1000, 0, "S", at=0).s(0, 1001, "RA", at=1), "REJ", ("CLOSED", "CLOSED")),
        (lambda t: t.handshake().c(1001, 5001, "R", at=300), "RSTO", ("CLOSED", "CLOSED")),
        (lambda t: t.handshake(), "S1", ("ESTABLISHED", "ESTABLISHED")),
        (
            lambda t: t.c(1000, 0, "S", at=0).s(5000, 1001, "SA", at=1),
            "S1",
            ("SYN-SENT", "SYN-RECEIVED"),  # the client has not acknowledged the SYN,ACK
        ),
        (
            lambda t: t.c(7, 9, "PA", b"mid", at=0).s(9, 10, "A", at=1),
            "OTH",
            ("ESTABLISHED", "ESTABLISHED"),
        ),
    ],
)
def test_connection_summaries(build: Any, zeek: str, states: tuple[str, str]) -> None:
    conn = table_of(build(Talk())).tcp[0].connection
    assert conn is not None
    assert conn.conn_state == zeek
    assert (conn.state(0), conn.state(1)) == states


def _path(conn: Any, side: int) -> list[str]:
    return [conn.path(side)[0].before, *(step.after for step in conn.path(side))]


def test_crossing_fins_take_both_sides_through_closing() -> None:
    """Neither FIN acknowledges the other: each side was in FIN-WAIT-1 when the other's FIN
    arrived (a simultaneous close), whatever order the capture saw them in."""
    talk = Talk().handshake()
    talk.c(1001, 5001, "FA", at=300).s(5001, 1001, "FA", at=300.5)
    talk.c(1002, 5002, "A", at=301).s(5002, 1002, "A", at=301.5)
    conn = table_of(talk).tcp[0].connection
    assert conn is not None
    for side in (0, 1):
        assert _path(conn, side)[-4:] == ["ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT"]
    assert [step.event.value for step in conn.path(0) if step.event] == [
        "connect",
        "SYN-ACK",
        "close",
        "FIN",
        "ACK of FIN",
    ]


def test_a_fin_that_acknowledges_ours_ends_in_time_wait() -> None:
    talk = Talk().handshake()
    talk.c(1001, 5001, "FA", at=300).s(5001, 1002, "FA", at=301).c(1002, 5002, "A", at=302)
    conn = table_of(talk).tcp[0].connection
    assert conn is not None
    assert _path(conn, 0)[-4:] == ["ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]
    assert _path(conn, 1)[-4:] == ["ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    assert (conn.state(0), conn.state(1)) == (TcpState.TIME_WAIT, TcpState.CLOSED)


def test_a_capture_that_starts_with_the_syn_ack() -> None:
    talk = Talk().s(5000, 1001, "SA", at=0).c(1001, 5001, "A", at=1)
    conn = table_of(talk).tcp[0].connection
    assert conn is not None
    assert (conn.state(0), conn.state(1)) == (TcpState.ESTABLISHED, TcpState.ESTABLISHED)
    assert _path(conn, 0) == ["CLOSED", "LISTEN", "SYN-RECEIVED", "ESTABLISHED"]  # the server


def test_responder_first_flips_the_originator() -> None:
    talk = Talk().s(5000, 1001, "SA", at=0).c(1001, 5001, "A", at=1)
    conn = table_of(talk).tcp[0].connection
    assert conn is not None and conn.history == "^hA"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    flows_cli.register(parser.add_subparsers())
    args = parser.parse_args(["flows", *argv])
    status = args.run(args)
    out = capsys.readouterr()
    return status, out.out, out.err


def test_flows_cli_table_and_tshark_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    talk = Talk().handshake()
    talk.c(1001, 5001, "PA", b"x" * 20_000, at=300)
    path = talk.write(tmp_path / "t.pcap")
    status, out, _ = cli(capsys, str(path))
    lines = out.splitlines()
    assert status == 0 and lines[0] == "TCP conversations: 1"
    assert lines[2].split() == [
        "0",
        "10.0.0.1:40000",
        "10.0.0.2:80",
        "3",
        "20120",
        "1",
        "40",
        "0.000000",
        "0.300000",
        "S1",
        "ShAD",
        "ESTABLISHED",
        "ESTABLISHED",
    ]
    status, out, _ = cli(capsys, str(path), "--format", "tshark")
    assert out.splitlines()[5] == (
        "10.0.0.1:40000             <-> 10.0.0.2:80                      1 40 bytes"
        "        3 20 kB           4 20 kB         0.000000000         0.3000"
    )


def _syn(i: int, at: int) -> Any:
    from headerkit.packet.decode import decode

    pkt = decode(craft.tcp(sport=1024 + i, dport=80, seq=i, flags="S").data, LinkType.RAW)
    pkt.timestamp_ns = at
    return pkt


def test_flow_state_is_bounded_and_the_table_says_when_it_dropped_some() -> None:
    table = FlowTable(max_flows=10)
    with pytest.warns(HeaderkitWarning, match="more than 10 flows"):
        for i in range(50):
            table.add(_syn(i, i))
    assert table.dropped == 40 and len(table.tcp) == 50  # counters kept for the tables
    assert sum(f.analyzer is not None for f in table.tcp) == 10  # state for the newest ten
    assert [f.index for f in table.tcp] == list(range(50))


def test_idle_flows_give_up_their_state_first() -> None:
    table = FlowTable(max_flows=100, idle_timeout=1.0)
    table.add(_syn(0, 0))
    table.add(_syn(1, 5 * 10**8))
    with pytest.warns(HeaderkitWarning):
        table.add(_syn(2, 12 * 10**8))  # flow 0 idle 1.2 s, flow 1 only 0.7 s
    assert table.dropped == 1 and table.tcp[0].analyzer is None
    assert table.tcp[1].analyzer is not None


def test_per_packet_fields_keep_no_past_flows() -> None:
    from headerkit.flows.table import FlowTable as Table

    kept = Table(keep=False, max_flows=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(30):
            seen = kept.add(_syn(i, i))
            assert seen is not None and seen.flow.index == i
    assert kept.tcp == [] and len(kept._open) == 5


def test_acks_rtts_bytes_in_flight_and_completeness() -> None:
    """The bookkeeping tshark shows beside the flags, on a small exchange: two segments in
    flight, one ACK for both, a retransmission timed from the oldest unacknowledged."""
    talk = Talk().handshake()  # frames 1-3
    talk.c(1001, 5001, "A", b"x" * 100, at=300).c(1101, 5001, "PA", b"y" * 50, at=310)
    talk.s(5001, 1151, "A", at=400)  # frame 6 acknowledges frame 5 exactly
    talk.c(1151, 5001, "PA", b"z" * 10, at=500).c(1151, 5001, "PA", b"z" * 10, at=900)
    f = talk.fields()
    assert [x.get("tcp.analysis.bytes_in_flight") for x in f[3:5]] == [100, 150]
    assert [x.get("tcp.analysis.push_bytes_sent") for x in f[3:5]] == [100, 150]
    assert f[5]["tcp.analysis.acks_frame"] == 5
    assert f[5]["tcp.analysis.ack_rtt"] == pytest.approx(0.090)
    assert f[1]["tcp.analysis.acks_frame"] == 1 and f[2]["tcp.analysis.acks_frame"] == 2
    assert f[2]["tcp.analysis.initial_rtt"] == pytest.approx(0.200)
    assert "tcp.analysis.initial_rtt" not in f[0]
    assert f[7]["tcp.analysis.retransmission"] is True
    assert (f[7]["tcp.analysis.rto"], f[7]["tcp.analysis.rto_frame"]) == (pytest.approx(0.4), 7)
    assert [x["tcp.completeness"] for x in f[:5]] == [0, 1, 3, 7, 15]
    assert f[5]["tcp.time_relative"] == pytest.approx(0.4)
    assert f[5]["tcp.time_delta"] == pytest.approx(0.09)
