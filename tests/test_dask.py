"""headerkit.tables.dask: partitions per file and per byte range give the pandas result."""

from __future__ import annotations

import itertools
from pathlib import Path

import distributed
import pandas as pd
import pytest

from headerkit import craft, read_table
from headerkit.captures import PcapWriter
from headerkit.schemas.linktypes import LinkType
from headerkit.tables.dask import partitions, read_pcaps


@pytest.fixture
def captures(tmp_path: Path) -> list[Path]:
    paths = []
    for n, count in enumerate((300, 40)):
        path = tmp_path / f"c{n}.pcap"
        with PcapWriter(path, LinkType.RAW) as w:
            for i in range(count):
                pkt = craft.tcp(
                    sport=1000 + i, dport=80, seq=i * 7, flags="PA", payload=bytes(i % 50)
                )
                w.write(pkt.data, timestamp_ns=10**18 + i)
        paths.append(path)
    return paths


def test_byte_ranges_split_at_record_boundaries(captures: list[Path]) -> None:
    parts = partitions(str(captures[0]), size=4000)
    assert len(parts) > 3
    assert parts[0].start == 24 and parts[-1].stop == captures[0].stat().st_size
    assert all(a.stop == b.start for a, b in itertools.pairwise(parts))
    assert parts[0].first == 1 and all(a.first < b.first for a, b in itertools.pairwise(parts))


def test_dask_on_a_local_cluster_equals_pandas(captures: list[Path], tmp_path: Path) -> None:
    expected = pd.concat([read_table(p) for p in captures], ignore_index=True)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False)
    with cluster, distributed.Client(cluster):
        ddf = read_pcaps(str(tmp_path / "c*.pcap"), partition_bytes=4000)
        assert ddf.npartitions > 3
        got = ddf.compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    assert got.groupby("tcp.dstport").size().to_dict() == {80: 340}


def test_every_partition_has_one_schema_whatever_it_holds(tmp_path: Path) -> None:
    """UDP only, TCP only, neither, empty: the same columns and dtypes, categoricals too."""
    mixed = tmp_path / "mixed.pcap"
    with PcapWriter(mixed, LinkType.RAW) as w:
        for i in range(60):  # a first byte range of UDP only, then TCP only
            w.write(craft.udp(sport=53, dport=1000 + i, payload=bytes(40)).data, timestamp_ns=i)
        for i in range(60):
            pkt = craft.tcp(sport=1000 + i, dport=80, flags="PA", payload=bytes(40))
            w.write(pkt.data, timestamp_ns=100 + i)
    empty = tmp_path / "empty.pcap"
    with PcapWriter(empty, LinkType.RAW):
        pass
    parts = partitions(str(mixed), size=3000)
    assert len(parts) >= 4
    frames = [read_table(p) for p in (mixed, empty)]
    from headerkit.tables.dask import read_part

    frames += [read_part(part) for part in parts]

    def kinds(frame: pd.DataFrame) -> list[str]:
        """Each column's dtype; a categorical's by the dtype of its categories (the values
        present differ from part to part, and concatenation unites them)."""
        return [
            f"category[{d.categories.dtype}]" if isinstance(d, pd.CategoricalDtype) else str(d)
            for d in frame.dtypes
        ]

    first = frames[0]
    for frame in frames[1:]:
        assert list(frame.columns) == list(first.columns)
        assert kinds(frame) == kinds(first)
    whole = read_pcaps([str(mixed), str(empty)], partition_bytes=3000).compute()
    assert len(whole) == 120 and kinds(whole) == kinds(first)
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), frames[0], check_categorical=False)


def test_the_projects_own_captures_read_as_one_dask_frame() -> None:
    from tests.conftest import PCAPS

    whole = read_pcaps(str(PCAPS / "*.pcap")).compute()
    expected = sum(len(read_table(p)) for p in sorted(PCAPS.glob("*.pcap")))
    assert len(whole) == expected and whole["tcp.flags.str"].dtype.name == "category"
