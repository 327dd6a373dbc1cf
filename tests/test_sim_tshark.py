"""The simulator's captures: valid packets, and tshark's TCP analysis agrees with its labels."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from headerkit.captures import read_capture
from headerkit.sim import builtin_names, load_scenario, simulate, variants
from headerkit.sim.pcap import captured, write_pcap
from headerkit.sim.tcp.profiles import PROFILES

FIELDS = (
    "zero_window",
    "zero_window_probe",
    "zero_window_probe_ack",
    "window_update",
    "window_full",
    "retransmission",
    "fast_retransmission",
    "duplicate_ack",
    "keep_alive",
    "keep_alive_ack",
)
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


def _scripted_tcp_scenarios() -> list[str]:
    """Built-in TCP scenarios whose path changes nothing at random.

    Random duplication and reordering of ACKs before the capture point make tshark judge
    from a different order than the one the sender saw, so those are left out.
    """
    names = []
    for name in builtin_names():
        for variant in (None, *variants(name)):
            spec = name if variant is None else f"{name}:{variant}"
            scenario = load_scenario(spec)
            links = (scenario.a_to_b, scenario.b_to_a)
            if scenario.protocol == "tcp" and not any(
                link.loss or link.duplicate or link.reorder for link in links
            ):
                names.append(spec)
    return names


def _tshark_labels(path: Path) -> list[set[str]]:
    assert TSHARK is not None
    command = [TSHARK, "-r", str(path), "-T", "fields", "-e", "frame.number"]
    for field in FIELDS:
        command += ["-e", f"tcp.analysis.{field}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        rows.append({field for field, value in zip(FIELDS, cols[1:], strict=True) if value})
    return rows


@needs_tshark
@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("name", _scripted_tcp_scenarios())
def test_tshark_agrees_with_the_simulator(name: str, profile: str, tmp_path: Path) -> None:
    result = simulate(load_scenario(name, profile=profile))
    path = tmp_path / "sim.pcap"
    count = write_pcap(result, path)
    ours = [
        {str(flag.name).lower() for flag in entry.packet.labels}
        for entry in captured(result)
        if entry.packet
    ]
    theirs = _tshark_labels(path)
    assert len(theirs) == count == len(ours)
    disagreements = [
        (number, sorted(a), sorted(b))
        for number, (a, b) in enumerate(zip(ours, theirs, strict=True), 1)
        if a != b
    ]
    assert disagreements == []


@needs_tshark
def test_the_stories_are_all_in_the_captures(tmp_path: Path) -> None:
    seen: set[str] = set()
    stories = ("zero-window", "rfc"), ("zero-window", "linux"), ("lossy", "rfc")
    for name, profile in (*stories, ("lossy:timeout", "rfc"), ("keepalive", "rfc")):
        path = tmp_path / "sim.pcap"
        write_pcap(simulate(load_scenario(name, profile=profile)), path)
        for labels in _tshark_labels(path):
            seen |= labels
    assert seen == set(FIELDS)


@needs_tshark
def test_checksums_are_correct(tmp_path: Path) -> None:
    path = tmp_path / "udp.pcap"
    write_pcap(simulate(load_scenario("udp:fragment")), path)
    write_pcap(simulate(load_scenario("hello-world")), tmp_path / "tcp.pcap")
    assert TSHARK is not None
    for capture in (path, tmp_path / "tcp.pcap"):
        out = subprocess.run(
            [
                TSHARK,
                "-r",
                str(capture),
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "ip.check_checksum:TRUE",
                "-T",
                "fields",
                "-e",
                "ip.checksum.status",
                "-e",
                "tcp.checksum.status",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        statuses = {s for line in out.splitlines() for s in line.split("\t") if s}
        assert statuses == {"1"}


def test_capture_reads_back(tmp_path: Path) -> None:
    result = simulate(load_scenario("udp:fragment"))
    path = tmp_path / "frag.pcap"
    assert write_pcap(result, path) == 3
    records = list(read_capture(path))
    assert [len(r.data) for r in records] == [1500, 1500, 68]
