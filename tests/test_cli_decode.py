"""`headerkit decode`: summary, tree, JSON Lines, CSV, selection, and nothing lost."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from headerkit import craft
from headerkit.captures import PcapWriter
from headerkit.cli import main
from headerkit.schemas.linktypes import LinkType
from tests.conftest import handshake


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    packets = [
        craft.tcp(
            src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=80, flags="S", mss=1460, wscale=7
        ),
        craft.tcp(src="10.0.0.2", dst="10.0.0.1", sport=80, dport=40000, flags="SA", ack=1),
        craft.udp(src="10.0.0.1", dst="10.0.0.3", sport=5353, dport=53, payload=b"q"),
        craft.tcp(
            src="2001:db8::1",
            dst="2001:db8::2",
            sport=1,
            dport=2,
            flags="PA",
            payload=b"hi",
            checksum=0x1234,
        ),
        craft.tcp(src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=80, flags="A", data_offset=15),
    ]
    path = tmp_path / "mixed.pcap"
    with PcapWriter(path, LinkType.RAW) as w:
        for i, p in enumerate(packets):
            w.write(p.data, timestamp_ns=1_700_000_000_000_000_000 + i * 1_000_000)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["decode", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_summary_has_one_line_per_packet_with_flags_and_marks(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, str(capture))
    lines = out.splitlines()
    assert status == 0 and len(lines) == 5
    assert (
        "10.0.0.1:40000 → 10.0.0.2:80 (HTTP) TCP [SYN]" in lines[0]
        and "<mss 1460,nop,wscale 7>" in lines[0]
    )
    assert "[SYN, ACK]" in lines[1] and "0.001000" in lines[1]
    assert "UDP len=1" in lines[2]
    assert "[2001:db8::1]:1 → [2001:db8::2]:2" in lines[3] and "[bad tcp checksum]" in lines[3]
    assert "[MALFORMED]" in lines[4] and "tcp.data_offset" in lines[4]


def test_jsonl_uses_tshark_names_and_keeps_bad_packets(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "--format", "jsonl", str(capture))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["frame.number"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["tcp.options.mss_val"] == 1460 and rows[0]["tcp.option_kind"] == [2, 1, 3]
    assert rows[3]["tcp.checksum.status"] == 0 and rows[3]["ipv6.src"] == "2001:db8::1"
    assert rows[4]["malformed"] is True and rows[4]["problems"]
    assert rows[0]["frame.time_epoch"] == "1700000000.000000000"


def test_csv_joins_lists_like_tshark(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--format", "csv", str(capture))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert (
        len(rows) == 5 and rows[0]["tcp.option_kind"] == "2;1;3" and rows[2]["udp.dstport"] == "53"
    )


@pytest.mark.parametrize(
    ("args", "count"),
    [
        (["--tcp"], 4),
        (["--udp"], 1),
        (["--port", "53"], 1),
        (["--host", "2001:db8:0::2"], 1),
        (["--count", "2"], 2),
        (["--tcp", "--count", "1"], 1),
    ],
)
def test_selection(
    capture: Path, capsys: pytest.CaptureFixture[str], args: list[str], count: int
) -> None:
    _, out, _ = run(capsys, *args, str(capture))
    assert len(out.splitlines()) == count


def test_verbose_tree_spells_out_fields(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "-V", "--count", "1", str(capture))
    assert "flags: 0x002 [SYN]" in out and "MSS (length 4): mss 1460" in out
    assert "checksum: 0x" in out and "[good]" in out and "data_offset: 7 (28 bytes)" in out


def test_damaged_file_decodes_every_whole_record_then_warns(
    capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture.read_bytes()[:-7])
    status, out, err = run(capsys, str(cut))
    assert status == 0 and len(out.splitlines()) == 4
    assert "warning" in err and "pcap" in err
    status, _, err = run(capsys, "--strict", str(cut))
    assert status == 1 and "headerkit:" in err


def test_strict_stops_at_a_malformed_packet(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "--strict", str(capture))
    assert (
        status == 1 and len(out.splitlines()) == 4 and "bad" not in err and "tcp.data_offset" in err
    )


def test_parquet_output_round_trips_through_pandas(
    capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    out = tmp_path / "t.parquet"
    status, _, _ = run(capsys, "--format", "parquet", "-o", str(out), str(capture))
    df = pd.read_parquet(out)
    assert status == 0 and len(df) == 5
    assert list(df["tcp.srcport"].iloc[:2]) == [40000, 80]
    assert df["malformed"].tolist() == [False, False, False, False, True]


def test_parquet_needs_an_output_file(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "--format", "parquet", str(capture))
    assert status == 2 and "-o FILE" in err


def test_flows_adds_stream_relative_numbers_and_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hs.pcap"
    craft.write(path, handshake())
    _, out, _ = run(capsys, "--flows", "--format", "jsonl", str(path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["tcp.stream"] for r in rows] == [0, 0, 0]
    assert [r["tcp.seq"] for r in rows] == [0, 0, 1] and rows[2]["tcp.ack"] == 1
    assert "tcp.window_size_scalefactor" not in rows[0]
    assert rows[2]["tcp.window_size_scalefactor"] == 128 and rows[2]["tcp.window_size"] == 12800
    _, plain, _ = run(capsys, "--format", "jsonl", str(path))
    assert "tcp.stream" not in plain


def test_parquet_of_a_whole_capture_equals_the_selected_path(
    capture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without selection the columnar decoder writes the file; with it, packet by packet."""
    import pandas as pd

    whole, picked = tmp_path / "whole.parquet", tmp_path / "picked.parquet"
    assert run(capsys, "--format", "parquet", "-o", str(whole), str(capture))[0] == 0
    assert (
        run(capsys, "--format", "parquet", "--count", "5", "-o", str(picked), str(capture))[0] == 0
    )
    pd.testing.assert_frame_equal(pd.read_parquet(whole), pd.read_parquet(picked))
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture.read_bytes()[:-7])
    status, _, err = run(capsys, "--format", "parquet", "-o", str(whole), str(cut))
    assert status == 0 and "warning: pcap" in err and len(pd.read_parquet(whole)) == 4


SLOW_READER = Path(__file__).parent.parent / "pcaps" / "tcp-hello-world-slow-reader.pcap"
_SEQ = re.compile(r" seq=(\d+) ack=(\d+) ")


@pytest.mark.parametrize(
    ("flag", "fields"), [((), "tcp.seq tcp.ack"), (("--absolute",), "tcp.seq_raw tcp.ack_raw")]
)
def test_the_summary_numbers_are_tsharks(
    flag: tuple[str, ...], fields: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Relative to each direction's first by default, as tshark shows them; raw with
    --absolute."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    _, out, _ = run(capsys, *flag, str(SLOW_READER))
    mine = [m.groups() for m in map(_SEQ.search, out.splitlines()) if m]
    command = ["tshark", "-r", str(SLOW_READER), "-T", "fields"]
    for field in fields.split():
        command += ["-e", field]
    theirs = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert len(mine) > 10
    assert mine == [tuple(line.split("\t")) for line in theirs.splitlines()]


def test_ports_are_named_and_placed_in_their_range(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "-V", "--count", "1", str(capture))
    assert "srcport: 40000 (registered; in Linux's ephemeral range)" in out
    assert "dstport: 80 (HTTP, well-known)" in out
