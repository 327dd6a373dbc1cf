"""IP fragments put back together, as tshark does by default."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import Ether

from headerkit.captures import PcapWriter
from headerkit.captures.decoded import decode_capture
from headerkit.cli import main
from headerkit.packet.defrag import Reassembler, reassemble
from tests.conftest import headerkit_rows, tshark_rows

pytestmark = pytest.mark.filterwarnings("ignore")  # scapy warns it has no MAC to send to
FIELDS = ["frame.number", "tcp.srcport", "tcp.len", "tcp.checksum.status", "udp.srcport"]
FIELDS += ["udp.length", "udp.checksum.status"]


def tshark(path: Path) -> list[dict[str, str]]:
    """tshark's fields with its default reassembly, checksums checked."""
    return tshark_rows(
        path, FIELDS, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"
    )


def mine(path: Path) -> list[dict[str, str]]:
    return headerkit_rows(reassemble(decode_capture(path)), FIELDS)


def write(path: Path, frames: list[bytes]) -> Path:
    with PcapWriter(path, 1) as writer:
        for i, frame in enumerate(frames):
            writer.write(frame, timestamp_ns=i * 1000)
    return path


def needs_tshark() -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")


def test_a_fragmented_tcp_segment_from_the_corpus(corpus: Path) -> None:
    needs_tshark()
    path = corpus / "pcaps" / "pcapplusplus__frag_http_req.pcap"
    assert mine(path) == tshark(path)
    last = list(reassemble(decode_capture(path)))[-1]
    assert last.tcp is not None and last.tcp.payload_length == 1460
    assert last.payload.startswith(b"GET /convert_data.js")


def test_fragments_in_any_order_and_ipv6(tmp_path: Path) -> None:
    needs_tshark()
    data = UDP(sport=5000, dport=53) / (b"x" * 3000)
    v4 = fragment(IP(src="10.0.0.1", dst="10.0.0.2", id=7) / data, fragsize=1000)
    v6 = fragment6(
        IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=9) / data, 1280
    )
    frames = [bytes(Ether() / f) for f in [v4[3], v4[0], v4[2], v4[1]]]  # out of order
    frames += [bytes(Ether() / f) for f in v6]
    path = write(tmp_path / "frags.pcap", frames)
    ours = mine(path)
    assert ours == tshark(path)
    completed = [r for r in ours if r["udp.length"]]
    assert [r["udp.length"] for r in completed] == ["3008", "3008"]
    assert all(r["udp.checksum.status"] == "1" for r in completed)


def test_overlapping_fragments_are_noted(tmp_path: Path) -> None:
    data = bytes(UDP(sport=1, dport=2) / (b"a" * 40))
    first = IP(src="10.0.0.1", dst="10.0.0.2", id=3, proto=17, flags="MF") / data[:24]
    clash = IP(src="10.0.0.1", dst="10.0.0.2", id=3, proto=17, flags="MF", frag=2) / (b"b" * 8)
    last = IP(src="10.0.0.1", dst="10.0.0.2", id=3, proto=17, frag=3) / data[24:]
    path = write(tmp_path / "overlap.pcap", [bytes(Ether() / f) for f in (first, clash, last)])
    out = list(reassemble(decode_capture(path)))
    assert any("different bytes: the first copy is kept" in n for n in out[1].notes)
    assert out[2].udp is not None and out[2].payload == b"a" * 40


def test_what_is_held_is_bounded(tmp_path: Path) -> None:
    frames = [
        bytes(
            Ether() / IP(src="10.0.0.1", dst="10.0.0.2", id=i, proto=17, flags="MF") / (b"z" * 16)
        )
        for i in range(50)
    ]
    path = write(tmp_path / "many.pcap", frames)
    state = Reassembler(max_datagrams=10)
    out = list(reassemble(decode_capture(path), state))
    assert len(state.pending) == 10 and state.dropped == 40
    assert (
        sum("was not reassembled: too many fragments held" in " ".join(p.notes) for p in out) == 40
    )
    timed = Reassembler(timeout_ns=5000)
    list(reassemble(decode_capture(path), timed))
    assert len(timed.pending) <= 6 and timed.dropped >= 44


def test_reassembly_on_the_command_line(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_tshark()
    path = corpus / "pcaps" / "pcapplusplus__frag_http_req.pcap"
    assert main(["decode", str(path), "--reassemble", "--format", "jsonl"]) == 0
    assert capsys.readouterr().out.count('"tcp.srcport"') == 1
    assert main(["decode", str(path), "--format", "jsonl"]) == 0
    assert capsys.readouterr().out.count('"tcp.srcport"') == 1  # the first fragment's header
    assert main(["flows", str(path), "--format", "tshark"]) == 0
    conv = subprocess.run(
        ["tshark", "-n", "-q", "-r", str(path), "-z", "conv,tcp"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert capsys.readouterr().out == conv
