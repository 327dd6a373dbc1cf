"""The capture reader against tshark over the shared corpus, and read -> write -> read.

oracle/<file>.csv has one row per frame tshark 4.0 read.  Its frame.encap_type column holds
wiretap WTAP_ENCAP_* numbers, not LINKTYPE_* values: in this corpus LINKTYPE 1 (Ethernet)
is 1, 0 (BSD loopback) 15, 9 (PPP) 4, 12 and 101 (raw IP) 7, 113 (Linux SLL) 25, 178
(Juniper Ethernet) 83, 228/229 (IPv4/IPv6) 129/130, 239 (NFLOG) 141, 253 (Netlink) 158,
258 (PKTAP) 171, 276 (Linux SLL2) 210.  So only the frame count and the captured and wire
lengths are compared.  tshark counts pcapng Custom Blocks as frames with an empty
encap type; the reader yields them too, with ``linktype == CUSTOM_BLOCK``.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import pytest

from headerkit.captures import CUSTOM_BLOCK, Record, read_capture, write_capture

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def corpus_files() -> list[Path | None]:
    pcaps = CORPUS / "pcaps"
    return [*sorted(pcaps.iterdir())] if pcaps.is_dir() else [None]


def require(path: Path | None) -> Path:
    if path is None:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return path


def records_of(source: Path | io.BytesIO) -> list[Record]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # damage would warn: none of these files is damaged
        with read_capture(source, strict=True) as reader:
            return list(reader)


parametrize = pytest.mark.parametrize(
    "path", corpus_files(), ids=lambda p: p.name if p else "missing"
)


@parametrize
def test_same_frames_as_tshark(path: Path | None) -> None:
    path = require(path)
    with open(CORPUS / "oracle" / f"{path.name}.csv", newline="") as oracle:
        rows = list(csv.DictReader(oracle))
    records = records_of(path)
    assert len(records) == len(rows)
    for row, record in zip(rows, records, strict=True):
        assert record.number == int(row["frame.number"])
        assert len(record.data) == int(row["frame.cap_len"]), record.number
        assert record.wirelen == int(row["frame.len"]), record.number
        assert (record.linktype == CUSTOM_BLOCK) == (row["frame.encap_type"] == "")


@parametrize
def test_pcapng_round_trip(path: Path | None) -> None:
    path = require(path)
    records = records_of(path)
    out = io.BytesIO()
    with read_capture(path) as reader:
        assert write_capture(out, reader, "pcapng") == len(records)
    out.seek(0)
    assert records_of(out) == records


@parametrize
def test_pcap_round_trip(path: Path | None) -> None:
    path = require(path)
    records = records_of(path)
    out = io.BytesIO()
    if len({r.linktype for r in records}) != 1 or records[0].linktype == CUSTOM_BLOCK:
        with pytest.raises(ValueError, match="link type"):  # pcap holds one link type
            write_capture(out, records, "pcap")
        return
    assert write_capture(out, records, "pcap") == len(records)
    out.seek(0)
    # pcap has one interface and no comments
    expected = [Record(r.number, r.timestamp_ns, r.linktype, r.data, r.wirelen) for r in records]
    assert records_of(out) == expected
