"""Compressed captures: recognised by their magic bytes and read as streams by every entry
point; written compressed on request or by the file name; tshark reads what headerkit does."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import headerkit
from headerkit.captures import read_capture, write_capture
from headerkit.captures.compression import CODECS, NAMES
from headerkit.captures.decoded import decode_capture
from headerkit.errors import CaptureFileError, HeaderkitWarning
from headerkit.interop.craft import format_for
from headerkit.tables.dask import read_pcaps
from tests.conftest import PCAPS

SOURCE = PCAPS / "tcp-partial-send.pcap"


@pytest.mark.parametrize("codec", CODECS, ids=[c.name for c in CODECS])
@pytest.mark.parametrize("form", ["pcap", "pcapng"])
def test_every_entry_point_reads_a_compressed_capture(codec, form: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = list(read_capture(SOURCE))
    path = tmp_path / f"x.{form}{codec.extensions[0]}"
    assert write_capture(path, records, form) == len(records)  # type: ignore[arg-type]
    assert path.read_bytes().startswith(codec.magic)  # compressed, from the file name
    back = list(read_capture(path))
    assert [(r.data, r.timestamp_ns) for r in back] == [(r.data, r.timestamp_ns) for r in records]
    assert len(list(decode_capture(path))) == len(records)
    plain = headerkit.read_table(SOURCE)
    assert headerkit.read_table(path)["tcp.seq_raw"].tolist() == plain["tcp.seq_raw"].tolist()
    assert len(read_pcaps([str(path)]).compute()) == len(records)


def test_compression_on_request_and_the_format_from_the_name(tmp_path: Path) -> None:
    path = tmp_path / "plain-name.pcap"
    write_capture(path, read_capture(SOURCE), compress="zstd")
    assert path.read_bytes()[:4] == bytes.fromhex("28b52ffd")
    assert format_for("a.pcapng.gz") == "pcapng" and format_for("a.pcap.zst") == "pcap"
    with pytest.raises(ValueError, match="compression must be one of"):
        write_capture(tmp_path / "y.pcap", read_capture(SOURCE), compress="rar")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["gzip", "zstd", "lz4"])
def test_tshark_reads_the_compressed_corpus_as_headerkit_does(
    name: str, corpus: Path, tmp_path: Path
) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    files = sorted((corpus / "pcaps").iterdir())[::9][:10]  # a spread of the corpus
    for source in files:
        target = tmp_path / f"{source.name}.{name}"
        codec = next(c for c in CODECS if c.name == name)
        with source.open("rb") as raw, target.open("wb") as out:
            writer = codec.writer(out)
            shutil.copyfileobj(raw, writer)
            writer.close()
        out_lines = subprocess.run(
            ["tshark", "-r", str(target), "-T", "fields", "-e", "frame.len"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        mine = [str(r.wirelen) for r in read_capture(target)]
        assert mine == out_lines, source.name


def test_the_cli_writes_compressed_captures(tmp_path: Path) -> None:
    path = tmp_path / "hs.pcap"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "headerkit",
            "simulate",
            "hello-world",
            "--pcap",
            str(path),
            "--compress",
            "lz4",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert path.read_bytes()[:4] == bytes.fromhex("04224d18")
    decoded = subprocess.run(
        [sys.executable, "-m", "headerkit", "decode", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert decoded.returncode == 0 and len(decoded.stdout.splitlines()) == 10
    assert set(NAMES) == {"gzip", "zstd", "lz4", "xz", "bz2"}


@pytest.mark.parametrize("codec", CODECS, ids=[c.name for c in CODECS])
def test_cut_off_compressed_data_keeps_what_came_before(codec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = [
        dataclasses.replace(r, timestamp_ns=r.timestamp_ns + 1000 * i)
        for i in range(300)
        for r in read_capture(SOURCE)
    ]
    path = tmp_path / f"x.pcap{codec.extensions[0]}"
    write_capture(path, records)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 5])
    with pytest.warns(HeaderkitWarning, match=f"the {codec.name} data is damaged or cut off"):
        reader = read_capture(path)
        kept = list(reader)
    assert reader.damage is not None
    assert [r.data for r in kept] == [r.data for r in records[: len(kept)]]
    assert len(kept) < len(records)
    if codec.name != "bz2":  # bz2 decompresses whole 900 kB blocks: none ends in the part kept
        assert kept
    with pytest.raises(CaptureFileError, match=codec.name):
        list(read_capture(path, strict=True))
    path.write_bytes(data[:6])
    with pytest.raises(CaptureFileError, match=f"{codec.name} data is damaged"):
        read_capture(path)
