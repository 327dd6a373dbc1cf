"""read_table: one row per packet, tshark's column names, proper dtypes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from headerkit import craft, read_table
from headerkit.captures import PcapWriter
from headerkit.captures.decoded import decode_capture
from headerkit.schemas.linktypes import LinkType
from headerkit.tables.fields import ALIASES, COLUMNS
from headerkit.tables.table import arrow_table
from headerkit.tables.tshark import tshark_fields
from tests.conftest import handshake


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "t.pcap"
    with PcapWriter(path, LinkType.RAW) as w:
        w.write(
            craft.tcp(
                sport=1, dport=2, flags="S", mss=1400, sack_perm=True, timestamps=(5, 0)
            ).data,
            timestamp_ns=10**18,
        )
        w.write(
            craft.tcp(sport=2, dport=1, flags="A", sack=[(10, 20), (30, 40)]).data,
            timestamp_ns=10**18 + 1,
        )
        w.write(
            craft.udp(src="::1", dst="::2", sport=7, dport=9, payload=b"abc").data,
            timestamp_ns=10**18 + 2,
        )
    return path


def test_columns_and_dtypes(capture: Path) -> None:
    df = read_table(capture)
    assert list(df.columns) == list(COLUMNS) and len(df) == 3
    assert str(df["tcp.srcport"].dtype) == "UInt16"
    assert str(df["tcp.options.mss_val"].dtype) == "UInt16"
    assert df["tcp.options.mss_val"].isna().tolist() == [False, True, True]
    assert isinstance(df["tcp.flags.str"].dtype, pd.CategoricalDtype)
    assert df["tcp.flags.str"].tolist()[:2] == ["SYN", "ACK"]
    assert df["tcp.flags.syn"].tolist()[:2] == [True, False]
    assert list(df["tcp.options.sack_le"].iloc[1]) == [10, 30]
    assert df["frame.time"].iloc[2] == pd.Timestamp(10**18 + 2, tz="UTC")
    assert df["frame.linktype"].tolist() == ["RAW"] * 3
    assert df["ipv6.src"].iloc[2] == "::1" and df["udp.length"].iloc[2] == 11


def test_field_selection_short_names_and_arrow(capture: Path) -> None:
    df = read_table(capture, ["tcp.srcport", "tcp.options.mss_val"], short_names=True)
    assert list(df.columns) == [ALIASES["tcp.srcport"], "mss"]
    table = read_table(capture, engine="arrow")
    assert isinstance(table, pa.Table) and table.schema.field("tcp.seq_raw").type == pa.uint32()
    with pytest.raises(KeyError, match="unknown columns"):
        read_table(capture, ["tcp.nonsense"])


def test_rows_equal_the_per_packet_decoder(corpus: Path) -> None:
    """The table holds exactly what tshark_fields gives, packet by packet, for every file."""
    for path in sorted((corpus / "pcaps").iterdir()):
        table = arrow_table(path).to_pylist()
        packets = list(decode_capture(path))
        assert len(table) == len(packets), path.name
        for got, pkt in zip(table, packets, strict=True):
            want = tshark_fields(pkt)
            want.pop("l234.malformed", None)  # the table's "malformed" column is that mark
            for key, value in want.items():
                if key == "tcp.options.tfo.cookie":
                    value = str(value)
                assert got[key] == value, (path.name, pkt.number, key)


def test_flows_add_stream_relative_numbers_window_and_analysis(tmp_path: Path) -> None:
    path = tmp_path / "hs.pcap"
    craft.write(
        path,
        [
            *handshake(),
            craft.tcp(sport=40000, dport=80, seq=1001, ack=5001, flags="A", window=100),
            craft.udp(sport=53, dport=53),
        ],
    )
    df = read_table(path, flows=True)
    assert df["tcp.stream"].tolist()[:4] == [0, 0, 0, 0] and pd.isna(df["tcp.stream"].iloc[4])
    assert df["udp.stream"].iloc[4] == 0
    assert df["tcp.seq"].tolist()[:3] == [0, 0, 1]
    assert (
        df["tcp.window_size"].iloc[2] == 12800 and df["tcp.window_size_scalefactor"].iloc[2] == 128
    )
    assert df["tcp.analysis.duplicate_ack"].tolist()[:4] == [False, False, False, True]
    assert pd.isna(df["tcp.analysis.duplicate_ack"].iloc[4])
    with path.open("rb") as f:  # a file object is read once and used twice
        assert read_table(f, flows=True, engine="arrow").num_rows == 5
    assert "stream" in read_table(path, flows=True, short_names=True).columns
