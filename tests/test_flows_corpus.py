"""Flow tracking against tshark over the shared corpus: stream numbers, calculated windows,
scale factors and analysis flags per packet, the conversation tables, the followed streams.

Every difference left is listed here with the reason tshark sees something headerkit does not.
"""

from __future__ import annotations

import argparse
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headerkit.captures.decoded import decode_capture
from headerkit.cli import follow as follow_cli
from headerkit.cli.flows import write_tshark
from headerkit.flows import FlowTable, annotate
from headerkit.flows.flags import ANALYSIS_FIELDS
from tests.conftest import load_compare

FIELDS = [
    "tcp.stream",
    "udp.stream",
    "tcp.window_size",
    "tcp.window_size_scalefactor",
    *ANALYSIS_FIELDS,
    "tcp.analysis.flags",
    "tcp.analysis.duplicate_ack_num",
]
# tshark names an IPv6 packet in a LINKTYPE_IPV4 file "ip:ipv6", so compare.py expects no
# UDP fields although tshark numbers the datagram's stream as headerkit does.
SCORER_ARTIFACTS = {("tcpdump__LINKTYPE_IPV4_invalid.pcap", 1, "udp.stream")}
# compare.py expects no flow fields for packets whose only TCP/UDP header is inside a tunnel;
# headerkit tracks those conversations as tshark does (its conversation tables for these
# files are identical to tshark's, below).
TUNNELLED = {"pcapplusplus__GrePackets.pcap", "tcpdump__gso-ipv4-vxlan-ipv4.pcap"}


def _annotated(path: str) -> Iterator[dict[str, Any]]:
    # The oracle has absolute sequence numbers: leave the relative ones out.
    for pkt, fields in annotate(decode_capture(path), relative=False):
        yield {"frame.number": pkt.number, **fields}


@pytest.fixture(scope="module")
def result(corpus: Path) -> dict[str, Any]:
    res: dict[str, Any] = load_compare(corpus).run(_annotated, corpus=str(corpus), fields=FIELDS)
    return res


def test_every_field_agrees_with_tshark(result: dict[str, Any]) -> None:
    assert result["missing_packets"] == result["extra_packets"] == 0
    assert result["errors"] == {}
    left = {
        (m["file"], m["frame"], m["field"])
        for m in result["mismatches"]
        if m["file"] not in TUNNELLED
    }
    assert left == SCORER_ARTIFACTS


def test_agreement_figures(result: dict[str, Any]) -> None:
    stats = result["stats"]
    tunnelled = Counter(m["field"] for m in result["mismatches"] if m["file"] in TUNNELLED)
    for field in FIELDS:
        s = stats[field]
        if not s.get("relevant"):
            continue
        agree = (s["match"] + tunnelled[field]) / s["relevant"]
        assert agree >= (0.98 if field.startswith("tcp.analysis.") else 0.99), field
    tcp = stats["tcp.stream"]
    assert tcp["match"] + tunnelled["tcp.stream"] == tcp["relevant"] > 8000
    for flag in ("retransmission", "out_of_order", "duplicate_ack", "zero_window"):
        assert stats[f"tcp.analysis.{flag}"]["relevant"] >= 50


def _oracle(corpus: Path, suffix: str) -> list[Path]:
    return sorted((corpus / "oracle").glob(f"*{suffix}"))


def _conversation_columns(text: str) -> list[list[str]]:
    """Endpoints, then frames and bytes each way and in total, per row."""
    rows = []
    for line in text.splitlines():
        if "<->" in line:
            a, rest = line.split("<->")
            words = rest.split()
            rows.append([a.strip(), *words[:-2]])
    return rows


def test_conversation_tables_match_tshark(corpus: Path) -> None:
    files = _oracle(corpus, ".conv_tcp.txt") + _oracle(corpus, ".conv_udp.txt")
    tables: dict[str, FlowTable] = {}
    exact = 0
    for oracle in files:
        capture, _, kind = oracle.name.rpartition(".conv_")
        if capture not in tables:
            tables[capture] = FlowTable()
            for pkt in decode_capture(corpus / "pcaps" / capture):
                tables[capture].add(pkt)
        out = io.StringIO()
        write_tshark(tables[capture], kind.removesuffix(".txt"), out)
        expected = oracle.read_text()
        assert _conversation_columns(out.getvalue()) == _conversation_columns(expected), oracle
        assert out.getvalue() == expected, oracle
        exact += 1
    assert exact == 190


def test_followed_streams_match_tshark_byte_for_byte(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    follow_cli.register(parser.add_subparsers())
    files = _oracle(corpus, ".txt")
    followed = [f for f in files if ".follow_tcp_raw_" in f.name]
    assert len(followed) >= 5
    for oracle in followed:
        capture, _, n = oracle.name.rpartition(".follow_tcp_raw_")
        args = parser.parse_args(
            ["follow", str(corpus / "pcaps" / capture), "--stream", n.removesuffix(".txt")]
        )
        assert args.run(args) == 0
        assert capsys.readouterr().out == oracle.read_text(), oracle.name
