"""``headerkit stats``: per-connection statistics, checked against tshark's own fields."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from headerkit.captures.decoded import decode_capture
from headerkit.cli import main
from headerkit.flows.stats import connection_stats
from headerkit.sim import load_scenario, simulate
from headerkit.sim.pcap import write_pcap

FILES = ["tcpdump__ssh.pcap", "zeek__206_example_b.pcap", "zeek__retransmit-fast009.pcap"]
RESENT = ("retransmission", "fast_retransmission", "spurious_retransmission")


def tshark_stats(path: Path) -> dict[tuple[int, str], dict[str, float]]:
    """The same statistics, counted from tshark's per-packet fields."""
    fields = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "tcp.len", "tcp.window_size"]
    fields += [f"tcp.analysis.{f}" for f in (*RESENT, "duplicate_ack", "zero_window")]
    fields += ["tcp.analysis.ack_rtt"]
    command = ["tshark", "-n", "-r", str(path), "-Y", "tcp", "-T", "fields"]
    for field in fields:
        command += ["-e", field]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found: dict[tuple[int, str], dict[str, float]] = {}
    for line in out.splitlines():
        cols = dict(zip(fields, line.split("\t"), strict=True))
        sender = f"{cols['ip.src'] or cols['ipv6.src']}:{cols['tcp.srcport']}"
        mine = found.setdefault((int(cols["tcp.stream"]), sender), _zero())
        length = int(cols["tcp.len"] or 0)
        mine["packets"] += 1
        mine["payload_bytes"] += length
        if any(cols[f"tcp.analysis.{f}"] for f in RESENT):
            mine["retransmitted_packets"] += 1
            mine["retransmitted_bytes"] += length
        mine["duplicate_acks"] += bool(cols["tcp.analysis.duplicate_ack"])
        mine["zero_windows"] += bool(cols["tcp.analysis.zero_window"])
        mine["max_window"] = max(mine["max_window"], int(cols["tcp.window_size"] or 0))
        if cols["tcp.analysis.ack_rtt"]:  # this ACK timed the other side's data
            receiver = found.setdefault((int(cols["tcp.stream"]), "peer of " + sender), _zero())
            receiver["rtt_samples"] += 1
    return found


def _zero() -> dict[str, float]:
    keys = ("packets", "payload_bytes", "retransmitted_packets", "retransmitted_bytes")
    keys += ("duplicate_acks", "zero_windows", "max_window", "rtt_samples")
    return dict.fromkeys(keys, 0)


@pytest.mark.parametrize("name", FILES)
def test_the_statistics_count_what_tshark_flags(name: str, corpus: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    path = corpus / "pcaps" / name
    theirs = tshark_stats(path)
    found = connection_stats(decode_capture(path))
    assert found
    for conn in found:
        for sender, receiver, direction in (
            (conn.a, conn.b, conn.a_to_b),
            (conn.b, conn.a, conn.b_to_a),
        ):
            want = theirs.get((conn.stream, sender), _zero())
            got = {key: getattr(direction, key) for key in want if key != "rtt_samples"}
            assert got == {k: v for k, v in want.items() if k != "rtt_samples"}, (conn, sender)
            timed = theirs.get((conn.stream, "peer of " + receiver), _zero())["rtt_samples"]
            assert direction.rtt_samples == timed
            assert direction.unique_bytes + direction.retransmitted_bytes == direction.payload_bytes
            if direction.rtt_samples:
                assert direction.rtt_min <= direction.rtt_mean <= direction.rtt_max  # type: ignore[operator]


def test_a_simulated_loss_shows_in_the_statistics(tmp_path: Path) -> None:
    result = simulate(load_scenario("lossy"))
    path = write_pcap(result, tmp_path / "lossy.pcap") and tmp_path / "lossy.pcap"
    (conn,) = connection_stats(decode_capture(path))
    assert conn.a_to_b.retransmitted_packets == 1
    assert conn.a_to_b.unique_bytes == 20_000
    assert conn.b_to_a.duplicate_acks >= 3
    assert conn.complete and conn.handshake_rtt == pytest.approx(0.040, abs=0.002)


def test_stats_on_the_command_line(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(corpus / "pcaps" / "tcpdump__ssh.pcap")
    assert main(["stats", path]) == 0
    text = capsys.readouterr().out
    assert "TCP connection 0: 202.108.87.165:62146 - 223.132.53.222:22" in text
    assert "complete conn: yes" in text and "retransmitted packets:" in text
    assert main(["stats", path, "--format", "json", "--stream", "0"]) == 0
    (conn,) = json.loads(capsys.readouterr().out)
    assert conn["a_to_b"]["packets"] + conn["b_to_a"]["packets"] == 54
    assert main(["stats", path, "--stream", "3"]) == 1
    assert "no TCP stream 3" in capsys.readouterr().err
    assert main(["stats", path, "-Y", "tcp.len > 0"]) == 0
    assert re.search(r"pure ACKs:\s+0\s+0\n", capsys.readouterr().out)
