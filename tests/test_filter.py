"""Display filters: tshark's syntax, tshark's answers.

The agreement test runs each filter through ``tshark -Y`` and through headerkit, per packet
and on the table, over one capture made of several corpus files (mergecap -a), and wants the
same frame numbers.  The files are ones without packets inside tunnels or ICMP errors: tshark
decodes those inner headers too, headerkit does not (yet).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import headerkit
from headerkit.errors import FilterError
from headerkit.flows import annotate
from headerkit.tables.filter import compile_filter, packet_record, select
from headerkit.tables.table import read_table
from tests.conftest import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "pcaps"
FILES = [
    "zeek__206_example_b.pcap",
    "pcapplusplus__sll.pcap",
    "tcpdump__ssh.pcap",
    "zeek__retransmit-fast009.pcap",
    "pcapplusplus__four_ipv6_http_streams.pcap",
    "filesamples__200722_tcp_anon.pcapng",
    "zeek__irc-starttls.pcap",
    "tcpdump__resp_1_benchmark.pcap",
]
FILTERS = [
    "tcp",
    "udp",
    "ip",
    "ipv6",
    "tcp.port == 80",
    "tcp.port != 80",
    "tcp.srcport == 22",
    "tcp.dstport eq 22",
    "udp.port == 53",
    "udp.length > 100",
    "ip.addr == 202.108.87.165",
    "ip.addr != 202.108.87.165",
    "ip.src == 192.168.0.0/16",
    "ip.dst == 10.0.0.0/8",
    "not ip.addr == 10.0.0.0/8",
    "ipv6.addr == 2001:db8::/32",
    "ipv6.src != ::1",
    "tcp.flags & 0x02",
    "tcp.flags & 0x12 == 0x12",
    "tcp.flags == 0x010",
    "tcp.flags.syn == 1",
    "tcp.flags.syn == 1 and tcp.flags.ack == 0",
    "tcp.flags.fin == 1 || tcp.flags.reset == 1",
    "tcp.flags.push == 1 && tcp.len > 100",
    "tcp.len > 0",
    "tcp.len >= 1448",
    "tcp.len < 10 and tcp.len > 0",
    "tcp.window_size_value < 1000",
    "tcp.window_size == 0",
    "tcp.window_size > 65535",
    "tcp.window_size_scalefactor == 128",
    "tcp.hdr_len > 20",
    "tcp.options.sack_perm",
    "tcp.options.mss_val",
    "tcp.options.mss_val == 1460",
    "tcp.options.mss_val < 1460",
    "tcp.options.wscale.shift >= 7",
    "tcp.options.timestamp.tsval",
    "tcp.option_kind == 5",
    "tcp.option_kind == 8",
    "tcp.port in {22, 80, 6379}",
    "tcp.port in {1000..2000}",
    "ip.ttl in {64, 128}",
    "ip.ttl < 64",
    "ip.flags & 0x2",
    "ip.proto == 17",
    "ip.len > 1000",
    "frame.len > 1000",
    "frame.len < 60",
    "eth.type == 0x86dd",
    "tcp.stream == 0",
    "tcp.stream in {1, 2, 3}",
    "tcp.seq == 1",
    "tcp.ack == 1",
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.zero_window",
    "tcp.analysis.window_update",
    "tcp.analysis.out_of_order",
    "tcp.analysis.lost_segment",
    "tcp.analysis.flags",
    "tcp.analysis.duplicate_ack_num > 1",
    "tcp.checksum.status == 0",
    'tcp.payload contains "STARTTLS"',
    'tcp.payload contains "SSH"',
    "tcp.payload contains 47:45:54",
    'frame contains "HTTP"',
    'tcp.payload matches "^(get|post) "',
    'frame matches "lrange"',
    "!(tcp.port == 6379 or tcp.port == 22)",
    "tcp and not tcp.analysis.flags",
    "(tcp.srcport < 1024) and (tcp.dstport >= 1024)",
    "tcp.srcport == tcp.dstport",
    "tcp.srcport > tcp.dstport",
]
TSHARK_OPTIONS = [
    "-n",
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    "-o", "tcp.check_checksum:TRUE",
    "-o", "udp.check_checksum:TRUE",
    "-o", "ip.check_checksum:TRUE",
]  # fmt: skip


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the filter agreement test reads {CORPUS}, which is absent")
    if shutil.which("tshark") is None or shutil.which("mergecap") is None:
        pytest.skip("tshark and mergecap not found (CI installs them)")
    path = tmp_path_factory.mktemp("filter") / "merged.pcapng"
    subprocess.run(
        ["mergecap", "-a", "-w", str(path), *(str(CORPUS / f) for f in FILES)], check=True
    )
    return path


@pytest.fixture(scope="module")
def records(merged: Path) -> list[dict[str, object]]:
    return [packet_record(p, f) for p, f in annotate(headerkit.decode_capture(merged))]


@pytest.fixture(scope="module")
def table(merged: Path) -> object:
    return read_table(merged, flows=True)


def tshark_frames(path: Path, text: str) -> list[int]:
    command = ["tshark", "-r", str(path), *TSHARK_OPTIONS, "-Y", text, "-T", "fields"]
    out = subprocess.run([*command, "-e", "frame.number"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [int(n) for n in out.stdout.split()]


@pytest.mark.parametrize("text", FILTERS)
def test_a_filter_selects_what_tshark_selects(
    text: str, merged: Path, records: list[dict[str, object]], table: object
) -> None:
    want = tshark_frames(merged, text)
    chosen = compile_filter(text)
    assert [r["frame.number"] for r in records if chosen.matches(r)] == want
    if not chosen.needs_payload:
        rows = table["frame.number"][chosen.mask(table)]  # type: ignore[index]
        assert rows.tolist() == want


def test_most_filters_select_some_packets_and_not_all(
    merged: Path, records: list[dict[str, object]]
) -> None:
    """A filter that selects nothing or everything would agree with tshark too easily."""
    some = 0
    for text in FILTERS:
        chosen = compile_filter(text)
        hits = sum(chosen.matches(r) for r in records)
        some += 0 < hits < len(records)
    assert len(FILTERS) >= 40 and some >= 40


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("tcp.port == 80 and foo", 20, "neither a field nor a protocol"),
        ("tcp.port ==", 12, "end of the filter"),
        ("tcp.port == 80 )", 16, "')'"),
        ("(tcp", 5, "end of the filter"),
        ("ip.addr == 10.0.0.999", 12, "does not appear to be an IPv4 or IPv6 network"),
        ("tcp.port == http", 13, "not a number"),
        ('tcp.port contains "x"', 1, "holds no bytes or text"),
        ('tcp.payload matches "("', 21, "not a regular expression"),
        ("ip.src & 0x1", 10, "not a number to mask"),
        ("tcp == 1", 1, "protocol"),
        ("frame.time > 3", 1, "not something headerkit filters on"),
        ("tcp.port $ 80", 10, "unexpected '$'"),
        ("", 1, "empty"),
        ("not " * 200 + "tcp", 1, "nests"),
        ("a" * 5000, 1, "at most 4096"),
    ],
)
def test_a_bad_filter_says_what_and_where(text: str, column: int, words: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    assert caught.value.column == column and words in caught.value.reason
    assert caught.value.pointer().splitlines()[1] == " " * (column - 1) + "^"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='tcpudiaflgs.=!<>&|(){}"~0123456789x: ,/-', max_size=40))
def test_any_text_is_a_filter_or_a_filter_error(text: str) -> None:
    try:
        chosen = compile_filter(text)
    except FilterError:
        return
    chosen.matches({"tcp.srcport": 1, "tcp.dstport": 2, "ip.src": "10.0.0.1", "frame": b"x"})


def test_flow_fields_come_from_every_packet_before_the_filter(merged: Path) -> None:
    """tshark numbers streams over the whole capture; so does select()."""
    chosen = compile_filter("tcp.stream == 3")
    picked = list(select(headerkit.decode_capture(merged), chosen))
    assert [p.number for p in picked] == tshark_frames(merged, "tcp.stream == 3")


def test_read_table_with_a_filter(merged: Path) -> None:
    frame = read_table(
        merged, ["frame.number", "tcp.len"], filter="tcp.len > 1000 && tcp.port == 22"
    )
    assert list(frame.columns) == ["frame.number", "tcp.len"]
    assert frame["frame.number"].tolist() == tshark_frames(
        merged, "tcp.len > 1000 && tcp.port == 22"
    )
    by_bytes = read_table(merged, filter='frame contains "STARTTLS"', short_names=True)
    assert by_bytes["no"].tolist() == tshark_frames(merged, 'frame contains "STARTTLS"')
    flagged = read_table(merged, filter="tcp.analysis.retransmission", flows=True)
    assert flagged["tcp.analysis.retransmission"].all()


def test_the_command_line_filters(merged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from headerkit.cli import main

    assert main(["decode", str(merged), "-Y", "tcp.analysis.zero_window", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(tshark_frames(merged, "tcp.analysis.zero_window")) > 0
    assert '"tcp.stream"' not in lines[0]  # the flow fields the filter needed are not output
    assert main(["flows", str(merged), "--filter", "tcp.port == 22"]) == 0
    assert "TCP conversations: 1" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["flows", str(merged), "--filter", "tcp.port =="])
    assert exit_.value.code == 2
    assert "at column 12" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text", ["ip.addr == 10.0.0.5", "ip.src == 192.168.1.2", "tcp.port == 80", "udp.port == 53"]
)
@pytest.mark.parametrize(
    "name", ["pcapplusplus__GrePackets.pcap", "tcpdump__gso-ipv4-vxlan-ipv4.pcap"]
)
def test_inside_tunnels_every_occurrence_counts(text: str, name: str) -> None:
    """tshark's ip.addr and ports match a tunnel's inner headers as well as its outer ones."""
    if not CORPUS.is_dir() or shutil.which("tshark") is None:
        pytest.skip("needs the corpus and tshark (CI has both)")
    path = CORPUS / name
    picked = [p.number for p in select(headerkit.decode_capture(path), compile_filter(text))]
    assert picked == tshark_frames(path, text)
