"""Checksum statuses as tshark gives them: bad, good, unverified, not present, illegal."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import headerkit
from headerkit import craft
from headerkit.captures import Record, write_capture
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.linktypes import LinkType

V6 = {"src": "2001:db8::1", "dst": "2001:db8::2"}
CASES = {
    # name: (packet bytes, layer, status)
    "bad": (craft.tcp(sport=1, dport=2, checksum=0x1234).data, "tcp", ChecksumStatus.BAD),
    "good": (craft.tcp(sport=1, dport=2, payload=b"hi").data, "tcp", ChecksumStatus.GOOD),
    "unverified": (
        craft.udp(sport=1, dport=2, payload=b"x" * 40).data[:-10],  # the snap length cut it
        "udp",
        ChecksumStatus.UNVERIFIED,
    ),
    "not present": (
        craft.udp(sport=1, dport=2, payload=b"abc", checksum=0).data,
        "udp",
        ChecksumStatus.NOT_PRESENT,
    ),
    "illegal": (
        craft.udp(**V6, sport=1, dport=2, payload=b"abc", checksum=0).data,
        "udp",
        ChecksumStatus.ILLEGAL,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_headerkit_gives_each_status(name: str) -> None:
    data, layer, status = CASES[name]
    full = len(craft.udp(sport=1, dport=2, payload=b"x" * 40).data) if name == "unverified" else 0
    pkt = headerkit.decode(data, LinkType.RAW, wirelen=max(full, len(data)))
    assert getattr(pkt, layer).checksum_status is status
    assert headerkit.tshark_fields(pkt)[f"{layer}.checksum.status"] == int(status)


def test_tshark_gives_the_same_statuses(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    names = sorted(CASES)
    records = []
    for number, name in enumerate(names, 1):
        data, _, _ = CASES[name]
        full = len(craft.udp(sport=1, dport=2, payload=b"x" * 40).data)
        wire = full if name == "unverified" else len(data)
        records.append(Record(number, number * 1000, LinkType.RAW, data, wire))
    path = tmp_path / "statuses.pcap"
    write_capture(path, records)
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(path),
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "tcp.checksum.status",
            "-e",
            "udp.checksum.status",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name, line in zip(names, out, strict=True):
        _, layer, status = CASES[name]
        tcp, udp = ([*line.split("\t"), ""])[:2]
        assert int(tcp if layer == "tcp" else udp) == int(status), name
