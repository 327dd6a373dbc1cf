"""The benchmark's capture generator and its checksum agreement, on tiny captures.

No timing is asserted: the benchmark itself is ``benchmarks/run.py``.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import headerkit
from benchmarks import generate, generate_other
from benchmarks.decoders import (
    PATHS,
    TSHARK_FIELDS,
    Digest,
    digest,
    named_row,
    table_rows,
    tshark_values,
)
from benchmarks.run import disagreements, run_worker
from headerkit import ChecksumStatus, IPv4, IPv6, Vlan

PACKETS = 6000
SUBSET = 500


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "mix.pcap"
    generate.generate(path, PACKETS, seed=7)
    return path


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate.generate(tmp_path / f"{name}.pcap", 300, seed=seed, pool_size=100)
    first, again, other = (tmp_path / f"{n}.pcap" for n in "abc")
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_a_cached_capture_is_reused(tmp_path: Path) -> None:
    path = generate.capture(200, 5, tmp_path)
    made = path.stat().st_mtime_ns
    assert generate.capture(200, 5, tmp_path) == path
    assert path.stat().st_mtime_ns == made
    assert generate.cache_path(201, 5, tmp_path) != path != generate.cache_path(200, 6, tmp_path)


def test_the_capture_has_the_mix_it_claims(capture: Path) -> None:
    kinds: Counter[tuple[str, str]] = Counter()
    offsets: Counter[int] = Counter()
    tagged = 0
    for pkt in headerkit.decode_capture(capture):
        assert not pkt.problems
        ip, seg = pkt.ip, pkt.transport
        assert isinstance(ip, IPv4 | IPv6) and seg is not None
        kinds[type(ip).__name__, type(seg).__name__] += 1
        tagged += pkt.layer(Vlan) is not None
        assert seg.checksum_status is ChecksumStatus.GOOD
        if isinstance(ip, IPv4):
            assert ip.checksum_status is ChecksumStatus.GOOD
        if pkt.tcp is not None and pkt.tcp.data_offset is not None:
            offsets[pkt.tcp.data_offset] += 1
    assert sum(kinds.values()) == PACKETS
    for version, proto, share in generate.MIX:
        assert kinds[f"IPv{version}", proto.upper()] / PACKETS == pytest.approx(share, abs=0.03)
    assert tagged / PACKETS == pytest.approx(generate.VLAN_SHARE, abs=0.012)
    assert set(offsets) == set(range(5, 16))


def _digests(capture: Path) -> dict[str, Digest]:
    names = ["headerkit", "dpkt", "scapy", "struct"] + (
        ["tshark"] if shutil.which("tshark") else []
    )
    found = {
        n: digest(PATHS[n]()(capture, SUBSET if n == "scapy" else None), SUBSET) for n in names
    }
    for engine in ("pandas", "arrow"):
        table = headerkit.read_table(capture, engine=engine)
        found[f"table-{engine}"] = digest(table_rows(table), SUBSET)
    for walk in ("walk-headerkit", "walk-python"):
        found[walk] = digest(PATHS[walk]()(capture, None), SUBSET)
    return found


LENGTHS = ("walk-headerkit", "walk-python")


def test_every_path_agrees_on_the_fields(capture: Path) -> None:
    found = _digests(capture)
    assert found["struct"].packets == PACKETS
    assert found["scapy"].packets == SUBSET
    assert disagreements(found, limited={"scapy"}, lengths=LENGTHS) == []


def _skipping_options(rows: Iterator[Any]) -> Iterator[Any]:
    """A path that wins by not decoding TCP options."""
    for row in rows:
        yield (*row[:11], (), -1, -1, -1, -1, ()) if len(row) == 17 else row


def test_the_other_mix_has_what_it_claims_and_every_path_agrees_on_it(tmp_path: Path) -> None:
    path = tmp_path / "other.pcap"
    generate.generate(path, 3000, seed=3, pool_size=1500, pool_of=generate_other.build_pool)
    seen: Counter[str] = Counter()
    for pkt in headerkit.decode_capture(path):
        assert not pkt.problems and len(pkt.data) >= generate_other.MIN_FRAME
        seen["padded"] += pkt.payload_end is not None and pkt.payload_end < len(pkt.data)
        ip, tcp, udp = pkt.ip, pkt.tcp, pkt.udp
        seen["ip options"] += isinstance(ip, IPv4) and bool(ip.options)
        kinds = {o.kind for o in tcp.options} if tcp is not None else set()
        seen["tfo"] += 34 in kinds
        seen["mptcp"] += 30 in kinds
        seen["eol"] += 0 in kinds
        seen["no udp checksum"] += udp is not None and udp.checksum == 0
        seen["dns"] += udp is not None and 53 in (udp.srcport, udp.dstport)
        seen["quic"] += udp is not None and 443 in (udp.srcport, udp.dstport)
    assert all(seen[k] > 10 for k in ("padded", "ip options", "no udp checksum", "dns", "quic"))
    assert all(seen[k] > 0 for k in ("tfo", "mptcp", "eol")), seen
    found = {n: digest(PATHS[n]()(path, None)) for n in ("headerkit", "dpkt", "struct")}
    found |= {n: digest(PATHS[n]()(path, None)) for n in ("headerkit-ports", "dpkt-ports")}
    table = headerkit.read_table(path, engine="arrow")
    found["table-arrow"] = digest(table_rows(table))
    assert disagreements(found, ports=("headerkit-ports", "dpkt-ports")) == []


def test_a_path_that_skips_work_is_caught(capture: Path) -> None:
    found = {n: digest(PATHS[n]()(capture, None), SUBSET) for n in ("struct", "dpkt", *LENGTHS)}
    found["lazy"] = digest(_skipping_options(PATHS["struct"]()(capture, None)), SUBSET)
    problems = disagreements(found, lengths=LENGTHS)
    assert problems and "lazy" in problems[0] and "struct, dpkt:" in problems[0]
    # a subset path is held to the others' first packets
    subset = digest(_skipping_options(PATHS["struct"]()(capture, SUBSET)), SUBSET)
    assert disagreements({**found, "lazy": found["struct"], "scapy": subset}, {"scapy"}, LENGTHS)
    # a walk that loses a record
    short = replace(found["walk-python"], packets=PACKETS - 1)
    assert disagreements({**found, "lazy": found["struct"], "walk-python": short}, (), LENGTHS)


def test_tshark_text_and_json_names_make_the_same_rows() -> None:
    values = {
        "vlan.id": [100],
        "ipv6.src": "2001:db8::1",
        "ipv6.dst": "2001:db8::2",
        "tcp.srcport": 1,
        "tcp.dstport": 2,
        "tcp.seq_raw": 3,
        "tcp.ack_raw": 4,
        "tcp.hdr_len": 28,
        "tcp.flags": 0x12,
        "tcp.window_size_value": 5,
        "tcp.option_kind": [2, 4, 0, 0],
        "tcp.options.mss_val": 1460,
    }
    row = named_row(values.get)
    assert row == (100, "2001:db8::1", "2001:db8::2", 6, 1, 2, 3, 4, 7, 0x12, 5, (2, 4, 0),
                   1460, -1, -1, -1, ())  # fmt: skip
    text = {**values, "tcp.flags": "0x0012"}  # tshark prints the flags in hex
    line = "\t".join(_tshark_text(text.get(name)) for name in TSHARK_FIELDS) + "\n"
    assert named_row(tshark_values(line.encode()).get) == row


def _tshark_text(value: Any) -> str:
    if value is None:
        return ""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def test_workers_agree_across_processes(capture: Path) -> None:
    runs = {n: run_worker(n, capture, PACKETS, None, SUBSET) for n in ("struct", "dpkt")}
    assert runs["struct"].digest == runs["dpkt"].digest
    assert runs["struct"].packets == PACKETS and runs["struct"].rss_kib > 0
