"""Crafting: friendly arguments, derived fields, overrides, capture files, specs, the CLI,
and tshark's verdict on what was crafted."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from headerkit import craft
from headerkit.captures import read_capture
from headerkit.cli import craft as craft_cli
from headerkit.packet.build import build
from headerkit.packet.decode import decode
from headerkit.packet.layers import TCP, UDP, IPv4, IPv6, Layer, TcpOption
from headerkit.schemas import tcp as t
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "pcaps" / "specs"


def cli(module: ModuleType, *argv: str) -> int:
    """Run one subcommand module as ``headerkit`` would."""
    parser = argparse.ArgumentParser(prog="headerkit")
    module.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


@pytest.mark.parametrize(
    "flags,bits",
    [
        ("S", t.SYN),
        ("SA", t.SYN | t.ACK),
        ("F.", t.FIN | t.ACK),
        ("PA", t.PSH | t.ACK),
        ({"SYN", "ACK"}, t.SYN | t.ACK),
        ("ece", t.ECE),
        (0x18, 0x18),
    ],
)
def test_parse_flags(flags: str | set[str] | int, bits: int) -> None:
    assert craft.parse_flags(flags) == bits


def test_parse_flags_refuses_an_unknown_flag() -> None:
    with pytest.raises(ValueError, match="unknown TCP flag 'X'"):
        craft.parse_flags("SX")


@pytest.mark.parametrize("src,dst", [("10.0.0.1", "10.0.0.2"), ("2001:db8::1", "2001:db8::2")])
def test_tcp_computes_every_derived_field(src: str, dst: str) -> None:
    seg = craft.tcp(
        src=src,
        dst=dst,
        sport=40000,
        dport=443,
        flags="SA",
        seq=1,
        ack=2,
        mss=1460,
        wscale=7,
        sack_perm=True,
        timestamps=(10, 20),
        sack=[(100, 200)],
        payload=b"hello",
    )
    pkt = seg.packet
    assert pkt.problems == []
    tcp, ip = pkt.tcp, pkt.ip
    assert tcp is not None and ip is not None
    assert tcp.checksum_status is ChecksumStatus.GOOD
    assert tcp.header_length == 20 + 32  # 4 + 2 + 10 + 12 + 4 bytes of options
    assert [(o.kind, o.value) for o in tcp.options if o.kind not in (t.NOP, t.EOL)] == [
        (t.MSS, 1460),
        (t.SACK_PERMITTED, None),
        (t.TIMESTAMPS, (10, 20)),
        (t.SACK, ((100, 200),)),
        (t.WINDOW_SCALE, 7),
    ]
    assert tcp.payload_length == 5 and pkt.payload == b"hello"
    if isinstance(ip, IPv4):
        assert ip.total_length == len(seg.data) and ip.checksum_status is ChecksumStatus.GOOD
    else:
        assert isinstance(ip, IPv6) and ip.payload_length == len(seg.data) - 40


def test_overrides_make_broken_packets() -> None:
    wrong = craft.tcp(sport=1, dport=2, checksum=0x1234).packet.tcp
    assert wrong is not None and wrong.checksum_status is ChecksumStatus.BAD
    short = craft.tcp(sport=1, dport=2, data_offset=4).packet
    assert [p.field for p in short.problems] == ["data_offset"]
    long = craft.tcp(sport=1, dport=2, data_offset=15).packet
    assert long.malformed
    zero = craft.tcp(sport=1, dport=2, options=[TcpOption(t.MSS, 0, b"")]).packet
    assert [p.field for p in zero.problems] == ["option_len"]
    assert craft.udp(sport=1, dport=2, length=7).packet.problems[0].field == "length"
    past = craft.udp(sport=1, dport=2, payload=b"abc", length=20).packet
    assert "length 20 > the 11-byte IP payload" in str(past.problems[0])
    ip = craft.udp(sport=1, dport=2, ip_fields={"checksum": 1, "tos": 0x10}).packet.ip
    assert isinstance(ip, IPv4) and ip.checksum_status is ChecksumStatus.BAD and ip.tos == 0x10


def test_ip_fields_names_the_fields_it_accepts() -> None:
    with pytest.raises(ValueError, match=r"IPv6 has no field 'ttl'.*'hop_limit'"):
        craft.udp(src="::1", dst="::2", sport=1, dport=2, ip_fields={"ttl": 1})


@pytest.mark.parametrize("name,magic", [("out.pcap", b"\x4d\x3c\xb2\xa1"), ("out.pcapng", None)])
def test_write_makes_a_capture_file(tmp_path: Path, name: str, magic: bytes | None) -> None:
    packets = [craft.tcp(sport=1, dport=2), craft.udp(src="::1", dst="::2", sport=3, dport=4)]
    path = tmp_path / name
    assert craft.write(path, packets, start_ns=5_000_000_000, offsets_ns=[0, 250]) == 2
    head = path.read_bytes()[:4]
    assert head == magic if magic else head == b"\x0a\x0d\x0d\x0a"
    records = list(read_capture(path))
    assert [r.data for r in records] == [p.data for p in packets]
    assert [r.timestamp_ns for r in records] == [5_000_000_000, 5_000_000_250]
    assert {r.linktype for r in records} == {LinkType.RAW}


def test_parse_spec_applies_defaults_replies_and_times() -> None:
    spec = craft.parse_spec(
        {
            "start": 100.0,
            "interval": 0.5,
            "defaults": {"src": "10.0.0.1", "dst": "10.0.0.2", "sport": 1000, "dport": 80},
            "packet": [
                {"flags": "S", "seq": 7, "mss": 1460},
                {"reply": True, "flags": "SA", "ack": 8, "timestamps": [1, 2]},
                {"at": 3, "proto": "udp", "payload_hex": "0102"},
                {"flags": "PA", "payload": "hi", "options": [{"kind": 99, "data": "abcd"}]},
                {"flags": "A", "options_raw": "0200", "ip": {"ttl": 1}},
            ],
        }
    )
    assert spec.start_ns == 100_000_000_000
    assert spec.offsets_ns == (0, 500_000_000, 3_000_000_000, 3_500_000_000, 4_000_000_000)
    first, reply, datagram, data, raw = (p.packet for p in spec.packets)
    assert first.tcp is not None and (first.tcp.seq, first.tcp.option(t.MSS) is not None) == (
        7,
        True,
    )
    assert reply.ip is not None and (reply.ip.src, reply.ip.dst) == ("10.0.0.2", "10.0.0.1")
    assert reply.tcp is not None and (reply.tcp.srcport, reply.tcp.dstport) == (80, 1000)
    assert datagram.udp is not None and datagram.payload == b"\x01\x02"
    assert data.tcp is not None and data.tcp.option(99) is not None and data.payload == b"hi"
    assert raw.tcp is not None and raw.tcp.padding == b"\x02\x00\x00\x00"
    assert isinstance(raw.ip, IPv4) and raw.ip.ttl == 1


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"packet": [{"sport": 1, "dport": 2, "colour": "red"}]}, "packet 1: .*'colour'"),
        ({"packet": [{"sport": 1, "dport": 2}, {"proto": "sctp"}]}, "packet 2: proto must be"),
        ({"packets": []}, "unknown top-level keys \\['packets'\\]"),
        ({}, "no \\[\\[packet\\]\\] tables"),
    ],
)
def test_parse_spec_says_what_is_wrong(spec: dict[str, object], message: str) -> None:
    with pytest.raises(craft.SpecError, match=message):
        craft.parse_spec(spec)


@pytest.mark.parametrize("name", ["handshake", "zero-window", "broken"])
def test_the_committed_crafted_captures_are_their_specs(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.pcap"
    craft.load_spec(SPECS / f"{name}.toml").write(out)
    assert out.read_bytes() == (ROOT / "pcaps" / f"crafted-{name}.pcap").read_bytes()


def test_cli_crafts_one_segment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "syn.pcap"
    argv = ["craft", "tcp", "--flags", "S", "--mss", "1460", "--wscale", "7", "--sack-perm"]
    argv += ["--timestamps", "1", "0", "--seq", "0x10", "--checksum", "0x1234", "-o", str(out)]
    assert cli(craft_cli, *argv) == 0
    printed = capsys.readouterr().out
    assert "[SYN]" in printed and "[bad tcp checksum]" in printed
    assert f"wrote 1 packet to {out}" in printed
    (record,) = read_capture(out)
    seg = decode(record.data, record.linktype).tcp
    assert seg is not None and (seg.seq, seg.checksum, seg.flags) == (16, 0x1234, t.SYN)
    assert [o.kind for o in seg.options if o.kind != t.NOP] == [t.MSS, t.SACK_PERMITTED, 8, 3]


def test_cli_crafts_udp_and_raw_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(craft_cli, "craft", "udp", "--src", "::1", "--dst", "::2", "--length", "7") == 0
    assert "length 7 < 8" in capsys.readouterr().out
    argv = ["craft", "tcp", "--option", "30:0081", "--sack", "5:9", "--flags", "SYN,ACK"]
    assert cli(craft_cli, *argv) == 0
    assert "[SYN, ACK]" in (out := capsys.readouterr().out)
    assert "<nop,nop,sack 5:9,mptcp subtype 0>" in out


def test_cli_crafts_from_a_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hs.pcapng"
    assert cli(craft_cli, "craft", "--spec", str(SPECS / "handshake.toml"), "-o", str(out)) == 0
    assert "wrote 8 packets" in capsys.readouterr().out
    assert len(list(read_capture(out))) == 8


@pytest.mark.parametrize(
    "argv,message",
    [
        (["craft"], "say what to craft"),
        (["craft", "--spec", "x.toml", "tcp"], "either --spec or a tcp/udp packet"),
        (["craft", "--spec", "/nonexistent.toml"], "No such file"),
        (["craft", "tcp", "--ip", "colour=1"], "IPv4 has no field 'colour'"),
    ],
)
def test_cli_reports_mistakes(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(craft_cli, *argv) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- tshark's verdict

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
WARN = 6291456  # tshark's expert severity levels: chat < note < warn < error
NOTE = 4194304


@dataclass
class Verdict:
    """What tshark says of one frame."""

    tcp: str
    udp: str
    ip: str
    messages: dict[str, int]
    malformed: bool

    def complaints(self, at_least: int = NOTE) -> set[str]:
        return {m for m, severity in self.messages.items() if severity >= at_least}


def tshark(path: Path) -> list[Verdict]:
    assert TSHARK is not None
    fields = ["tcp.checksum.status", "udp.checksum.status", "ip.checksum.status"]
    fields += ["_ws.expert.message", "_ws.expert.severity", "_ws.malformed"]
    argv = [TSHARK, "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a"]
    argv += ["-E", "separator=\x1f", "-E", "aggregator=\x1e"]
    for check in ("tcp", "udp", "ip"):
        argv += ["-o", f"{check}.check_checksum:TRUE"]
    for name in fields:
        argv += ["-e", name]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    verdicts = []
    for line in out.rstrip("\n").split("\n"):  # not splitlines(): it splits at \x1e too
        tcp, udp, ip, messages, severities, malformed = line.split("\x1f")
        pairs = zip(messages.split("\x1e"), severities.split("\x1e"), strict=True)
        verdicts.append(Verdict(tcp, udp, ip, {m: int(s) for m, s in pairs if m}, bool(malformed)))
    return verdicts


def _should_be(crafted: craft.Crafted, kind: type[Layer]) -> str:
    """tshark's complaint about a packet crafted with a wrong checksum in its ``kind`` layer."""
    layers = [
        dataclasses.replace(x, checksum=None) if isinstance(x, kind) else x  # type: ignore[type-var]
        for x in crafted.layers
    ]
    right = decode(build(layers, crafted.packet.payload), LinkType.RAW).layer(kind).checksum
    return f"Bad checksum [should be 0x{right:04x}]"


@needs_tshark
def test_tshark_finds_nothing_wrong_in_valid_packets(tmp_path: Path) -> None:
    valid = [
        craft.tcp(sport=40000, dport=40001, flags="S", mss=1460, wscale=7, sack_perm=True),
        craft.tcp(src="2001:db8::1", dst="2001:db8::2", sport=40002, dport=40003, payload=b"x"),
        craft.udp(sport=40004, dport=40005, payload=b"hello"),
        craft.udp(src="2001:db8::1", dst="2001:db8::2", sport=40006, dport=40007, payload=b"y"),
    ]
    path = tmp_path / "valid.pcap"
    craft.write(path, valid)
    verdicts = tshark(path) + tshark(ROOT / "pcaps" / "crafted-handshake.pcap")
    for v in verdicts:
        assert not v.malformed and v.complaints(WARN) == set()
        assert "0" not in (v.tcp, v.udp, v.ip) and "1" in (v.tcp, v.udp)


@needs_tshark
def test_tshark_sees_the_zero_window_exchange() -> None:
    verdicts = tshark(ROOT / "pcaps" / "crafted-zero-window.pcap")
    assert [v.complaints(0) - {m for m in v.messages if "Connection" in m} for v in verdicts] == [
        set(),
        set(),
        set(),
        {"TCP window specified by the receiver is now completely full"},
        {"TCP Zero Window segment"},
        {"TCP Zero Window Probe"},
        {"TCP Zero Window segment", "ACK to a TCP Zero Window Probe"},
        {"TCP window update"},
    ]
    assert all(v.tcp == "1" and not v.malformed for v in verdicts)


@needs_tshark
def test_tshark_names_exactly_the_intended_flaw() -> None:
    spec = craft.load_spec(SPECS / "broken.toml")
    tcp_sum, udp_sum, ip_sum = spec.packets[0], spec.packets[6], spec.packets[7]
    expected = [
        {_should_be(tcp_sum, TCP)},
        {"Bogus TCP header length (16, must be at least 20)"},
        {
            "Short segment. Segment/fragment does not contain a full TCP header (might be "
            "NMAP or someone else deliberately sending unusual packets)",
            "Malformed Packet (Exception occurred)",
        },
        {"Maximum segment size (with too-short option length = 0 bytes)"},
        {"Bad length value 7 < 8"},
        {"Bad length value 20 > IP payload length"},
        {_should_be(udp_sum, UDP)},
        {_should_be(ip_sum, IPv4)},
        {"Illegal checksum value (0)"},
    ]
    verdicts = tshark(ROOT / "pcaps" / "crafted-broken.pcap")
    assert [v.complaints() for v in verdicts] == expected
    assert [(v.tcp, v.udp, v.ip) for v in (verdicts[0], verdicts[6], verdicts[7])] == [
        ("0", "", "1"),
        ("", "0", "1"),
        ("1", "", "0"),
    ]
