"""tshark's per-segment bookkeeping beyond the flags, against tshark itself over the shared
corpus: bytes in flight, bytes since PSH, the frame an ACK acknowledges and its RTT, the
initial RTT, the frame a duplicate ACK repeats, RTO and its frame, the stream's relative and
delta times, and the conversation's completeness.

The corpus oracle does not hold these fields, so tshark is run here, into the test's own
temporary folder, with the oracle's preferences (``corpus/README.md``) plus timestamps.
Each field must agree on at least 99.5 % of the TCP packets.  What stays different: packets
inside tunnels and ICMP errors (tshark decodes the inner TCP header, headerkit the outer
ones) and an IPv6 atomic fragment tshark does not take as TCP.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from headerkit.captures.decoded import decode_capture
from headerkit.flows import annotate

FIELDS = [
    "tcp.analysis.bytes_in_flight",
    "tcp.analysis.push_bytes_sent",
    "tcp.analysis.acks_frame",
    "tcp.analysis.ack_rtt",
    "tcp.analysis.initial_rtt",
    "tcp.analysis.duplicate_ack_frame",
    "tcp.analysis.rto",
    "tcp.analysis.rto_frame",
    "tcp.time_relative",
    "tcp.time_delta",
    "tcp.completeness",
]
FLOOR = 0.995


def _same(mine: object, theirs: str) -> bool:
    if not theirs:
        return mine is None
    if mine is None:
        return False
    if "." in theirs:
        return abs(float(theirs) - float(mine)) < 5e-7  # type: ignore[arg-type]
    return int(theirs) == mine


@pytest.fixture(scope="module")
def agreement(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    meta = json.loads((corpus / "oracle" / "_oracle_meta.json").read_text())
    prefs = [*meta["prefs"], "tcp.calculate_timestamps:TRUE"]
    folder = tmp_path_factory.mktemp("timing")
    same: Counter[str] = Counter()
    packets = 0
    for path in sorted((corpus / "pcaps").iterdir()):
        command = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "header=y"]
        for pref in prefs:
            command += ["-o", pref]
        for field in ["frame.number", "tcp.stream", *FIELDS]:
            command += ["-e", field]
        out = folder / f"{path.name}.tsv"
        with out.open("w") as sink:
            subprocess.run(command, stdout=sink, stderr=subprocess.DEVNULL, check=False)
        theirs = {int(r["frame.number"]): r for r in csv.DictReader(out.open(), delimiter="\t")}
        for pkt, fields in annotate(decode_capture(path)):
            row = theirs.get(pkt.number or 0)
            if row is None or not row["tcp.stream"]:
                continue
            packets += 1
            for field in FIELDS:
                same[field] += _same(fields.get(field), row[field].split(",")[0])
    assert packets > 8000
    return {field: same[field] / packets for field in FIELDS}


@pytest.mark.parametrize("field", FIELDS)
def test_each_field_agrees_with_tshark(field: str, agreement: dict[str, float]) -> None:
    assert agreement[field] >= FLOOR, f"{field}: {agreement[field]:.2%}"
