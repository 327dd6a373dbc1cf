"""``headerkit simulate`` on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from headerkit.cli import simulate


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    simulate.register(parser.add_subparsers())
    args = parser.parse_args(["simulate", *argv])
    status: int = args.run(args)
    return status


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--list"]) == 0
    out = capsys.readouterr().out
    assert "hello-world:recv3-7" in out and "zero-window" in out


def test_timeline_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["hello-world:slow-reader"]) == 0
    out = capsys.readouterr().out
    assert "> P. 1:6(5) ack 1" in out
    assert "b recv(4) = 4 'oWor'" in out
    assert "|Hell|oWor|ld|" in out
    assert "< " not in out  # arrivals only with --trace


def test_trace_pcap_and_toml_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(
        '[a]\ncalls = [{ call = "send", data = "hi" }, { call = "close" }]\n'
        '[b]\ncalls = [{ call = "recv", size = 1, loop = true }, '
        '{ call = "close" }]\n'
    )
    pcap = tmp_path / "out.pcap"
    assert run([str(toml), "--trace", "--pcap", str(pcap)]) == 0
    out = capsys.readouterr().out
    assert "rcvbuf 2/131072" in out
    assert "|h|i|" in out
    assert pcap.stat().st_size > 24


def test_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["no-such-scenario"]) == 2
    assert run([]) == 2
    assert "no built-in scenario" in capsys.readouterr().err


def test_frame_recovers_messages_from_recv_chunks(capsys: pytest.CaptureFixture[str]) -> None:
    from headerkit.cli import main

    assert main(["simulate", "hello-world:lines", "--summary", "--frame", "lines"]) == 0
    out = capsys.readouterr().out
    assert "recv() chunks:        4 + 4 + 4" in out
    assert "framed (lines):      'Hello' | 'World'" in out
