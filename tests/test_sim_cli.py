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


def test_the_legend_explains_every_mark_the_timeline_uses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from headerkit.schemas.tcp import FLAG_LETTERS
    from headerkit.sim.trace import LABEL_TEXT

    assert run(["--legend"]) == 0
    legend = capsys.readouterr().out
    for _, letter in FLAG_LETTERS:
        assert f" {letter} " in legend or f"'{letter}'" in legend
    for text in LABEL_TEXT.values():
        assert text in " ".join(legend.split())
    for word in ("flight", "cwnd", "peer_rwnd", "own_rwnd", "sndbuf", "rcvbuf", "win", "ack"):
        assert word in legend
    assert run(["--legend", "udp:hello"]) == 0
    both = capsys.readouterr().out
    assert both.startswith(legend) and "recvfrom(4)" in both


def test_windows_are_labelled_by_whose_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["zero-window", "--trace"]) == 0
    lines = capsys.readouterr().out.splitlines()
    sent = [line for line in lines if " > " in line and "flight" in line]
    received = [line for line in lines if " < " in line]
    assert sent and all("peer_rwnd" in line and " rwnd" not in line for line in sent)
    assert received and all("own_rwnd" in line for line in received)
    # before the peer's SYN, the sender cannot know its window: no made-up 0
    assert "peer_rwnd ?" in sent[0] and " S " in sent[0]
    assert not any("peer_rwnd ?" in line for line in sent[1:])
    assert any("peer_rwnd 0 " in line for line in sent)  # the real zero window
