"""``headerkit explain``: every flag gets its rule in words, with the frames it relied on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from headerkit.captures.decoded import decode_capture
from headerkit.cli import main
from headerkit.flows import annotate
from headerkit.flows.explain import explain
from tests.test_flows import Talk

# The reason a flag gets, by the words it starts with (fast and spurious ones imply
# "retransmission" and are explained once).
OPENINGS = {
    "retransmission": "retransmission:",
    "fast_retransmission": "fast retransmission:",
    "spurious_retransmission": "spurious retransmission:",
    "out_of_order": "out-of-order:",
    "lost_segment": "previous segment not captured:",
    "ack_lost_segment": "ACKed unseen segment:",
    "duplicate_ack": "duplicate ACK #",
    "zero_window": "zero window:",
    "zero_window_probe": "zero-window probe:",
    "zero_window_probe_ack": "zero-window probe ACK:",
    "window_full": "window full:",
    "window_update": "window update:",
    "keep_alive": "keep-alive:",
    "keep_alive_ack": "keep-alive ACK:",
}


@pytest.mark.parametrize(
    "name", ["zeek__retransmit-fast009.pcap", "zeek__206_example_b.pcap", "tcpdump__ssh.pcap"]
)
def test_every_flag_of_every_flagged_frame_is_explained(name: str, corpus: Path) -> None:
    path = corpus / "pcaps" / name
    fields = {p.number: f for p, f in annotate(decode_capture(path))}
    streams = {f["tcp.stream"] for f in fields.values() if "tcp.stream" in f}
    explained = [e for s in sorted(streams) for e in explain(decode_capture(path), stream=s)]
    flagged = [n for n, f in fields.items() if f.get("tcp.analysis.flags")]
    assert sorted(e.frame for e in explained) == sorted(flagged) and flagged
    for item in explained:
        shown = set(item.flags)
        if shown & {"fast_retransmission", "spurious_retransmission", "out_of_order"}:
            shown.discard("retransmission")
        for flag in shown:
            assert any(r.startswith(OPENINGS[flag]) for r in item.reasons), (item, flag)
        dup = fields[item.frame].get("tcp.analysis.duplicate_ack_frame")
        if dup is not None:  # the frame quoted is the one tshark names
            assert f"as frame {dup}:" in " ".join(item.reasons)


def test_the_numbers_quoted_are_the_ones_compared() -> None:
    talk = Talk().handshake()  # frames 1-3: client ISN 1000, server 5000
    talk.c(1001, 5001, "A", b"a" * 100, at=300)  # 4
    talk.c(1201, 5001, "A", b"c" * 100, at=301)  # 5: 1101-1200 never captured
    for at in (400, 401, 402):  # 6-8
        talk.s(5001, 1101, "A", at=at)
    talk.c(1101, 5001, "A", b"b" * 100, at=405)  # 9: fast retransmission
    (gap,) = explain(talk.packets, [5])
    assert gap.reasons == [
        "previous segment not captured: seq 201 is beyond the next seq 101 (set by frame 4), "
        "so 100 bytes in between were never seen"
    ]
    dups = list(explain(talk.packets, [7, 8]))
    assert [d.reasons[0][:22] for d in dups] == ["duplicate ACK #1: no d", "duplicate ACK #2: no d"]
    assert all("as frame 6:" in d.reasons[0] for d in dups)
    (fast,) = explain(talk.packets, [9])
    assert re.match(
        r"fast retransmission: it resends seq 101, which the peer had asked for with 2 "
        r"duplicate ACKs \(ack 101, the last in frame 8, 3\.000 ms before",
        fast.reasons[0],
    )


def test_explain_on_the_command_line(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(corpus / "pcaps" / "zeek__retransmit-fast009.pcap")
    assert main(["explain", path, "--frame", "32"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("frame 32 (tcp.stream 0): retransmission, fast_retransmission\n")
    assert main(["explain", path, "--frame", "9999"]) == 1
    assert "no TCP segment in frame 9999" in capsys.readouterr().err
    missing_syn = str(corpus / "pcaps" / "zeek__missing-syn.pcap")
    assert main(["explain", missing_syn, "--frame", "3"]) == 0
    assert "window scale is unknown" in capsys.readouterr().out
