"""The pictures, drawn from real data, checked by their artists and saved as PNGs to look at
(in build/plots/)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from headerkit.flows.flags import Analysis

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import Rectangle

from headerkit import craft
from headerkit.cli import main
from headerkit.plots import (
    boundaries,
    flow_control,
    header_anatomy,
    simulation_boundaries,
    simulation_time_sequence,
    time_sequence,
)
from headerkit.plots.timeseq import collect
from headerkit.schemas.tcp import TCP_LAYOUT
from headerkit.schemas.udp import UDP_LAYOUT
from headerkit.sim import load_scenario, simulate
from headerkit.sim.segment import Segment
from headerkit.sim.trace import Kind
from tests.conftest import ROOT

OUT = ROOT / "build" / "plots"


def save(ax: object, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    ax.figure.savefig(path, dpi=80, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(ax.figure)  # type: ignore[attr-defined]
    assert path.stat().st_size > 5000
    return path


def test_tcp_anatomy_has_a_cell_per_field_per_flag_bit_and_a_row_per_option() -> None:
    seg = craft.tcp(
        sport=40000, dport=80, flags="SA", mss=1460, wscale=7, sack_perm=True, timestamps=(1, 0)
    )
    ax = header_anatomy(seg.packet)
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    options = seg.packet.tcp.options
    # the 12-bit flags field is 12 cells; every other field one; then one row per option
    assert len(boxes) == len(TCP_LAYOUT.bits) - 1 + 12 + len(options) == 25
    texts = [t.get_text() for t in ax.texts]
    assert "Source Port\n40000" in texts
    filled = [t for t, b in zip(texts, boxes, strict=False) if b.get_fill()]
    assert sorted(t.split("\n")[0] for t in filled) == ["ACK", "SYN"]
    assert [t for t in texts if t.startswith("Option kind")] == [
        "Option kind 2 (MSS), length 4: mss 1460",
        "Option kind 4 (SACK_PERM), length 2: sackOK",
        "Option kind 8 (TS), length 10: TS val 1 ecr 0",
        "Option kind 1 (NOP)",
        "Option kind 3 (WS), length 3: wscale 7",
    ]
    shown = "".join(t.replace(" ", "") for t in texts if set(t) <= set("0123456789abcdef "))
    assert bytes.fromhex(shown) == seg.packet.data[20:60]  # every header byte, once, in order
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(b) for b in range(32)]
    save(ax, "anatomy-tcp.png")


def test_udp_anatomy() -> None:
    ax = header_anatomy(craft.udp(sport=53, dport=5353, payload=b"x").packet, "udp")
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == len(UDP_LAYOUT.bits)
    save(ax, "anatomy-udp.png")
    with pytest.raises(ValueError, match="no TCP header"):
        header_anatomy(craft.udp(sport=1, dport=2).packet, "tcp")


def test_flow_control_marks_every_zero_window_and_probe() -> None:
    result = simulate(load_scenario("zero-window"))
    ax = flow_control(result)
    sent = [
        e.packet for e in result.entries if e.kind is Kind.SEND and isinstance(e.packet, Segment)
    ]
    zero = sum(Analysis.ZERO_WINDOW in p.labels for p in sent)
    probes = sum(Analysis.ZERO_WINDOW_PROBE in p.labels for p in sent)
    assert zero > 0 and probes > 0
    markers = {line.get_label(): len(line.get_xdata()) for line in ax.lines}
    assert markers["zero window"] == zero and markers["zero-window probe"] == probes
    save(ax, "flow-control-zero-window.png")


def test_boundaries_draw_a_bar_per_send_segment_and_recv() -> None:
    result = simulate(load_scenario("hello-world:slow-reader"))
    ax = simulation_boundaries(result)
    bars = [len(c.get_paths()) for c in ax.collections]
    assert bars == [1, 1, 1, 1, 1, 1, 1]  # Hello, World | two segments | Hell, oWor, ld
    assert {t.get_text() for t in ax.texts} >= {"Hello", "World", "Hell", "oWor", "ld"}
    save(ax, "boundaries-slow-reader.png")
    ax = boundaries([b"Hello", b"World"], [b"HelloWorld"])
    assert len(ax.collections) == 3
    plt.close(ax.figure)


def test_simulate_cli_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "zw.png"
    assert main(["simulate", "zero-window", "--summary", "--plot", str(out)]) == 0
    assert out.stat().st_size > 20000 and f"wrote {out}" in capsys.readouterr().out


def test_time_sequence_marks_one_bar_per_retransmission() -> None:
    result = simulate(load_scenario("lossy"))
    sent = [e.packet for e in result.entries if e.kind is Kind.SEND and e.side == 0]
    rexmits = sum(isinstance(p, Segment) and Analysis.RETRANSMISSION in p.labels for p in sent)
    ax = simulation_time_sequence(result, direction=0)
    red = [c for c in ax.collections if c.get_label() == "retransmission"]
    assert rexmits > 0 and len(red) == 1 and len(red[0].get_segments()) == rexmits
    assert {line.get_label() for line in ax.lines} >= {"ACK", "window edge (ACK + rwnd)"}
    save(ax, "time-sequence-lossy.png")


def test_time_sequence_of_a_capture_and_zero_windows(tmp_path: Path) -> None:
    from headerkit.captures.decoded import decode_capture
    from headerkit.sim.pcap import write_pcap

    path = tmp_path / "zw.pcap"
    result = simulate(load_scenario("zero-window"))
    write_pcap(result, path)
    packets = list(decode_capture(path))
    zero = sum(
        Analysis.ZERO_WINDOW in e.packet.labels
        for e in result.entries
        if e.kind is Kind.SEND and e.side == 1 and isinstance(e.packet, Segment)
    )
    d = collect(packets, 0, 0)
    assert len(d.zero_windows) == zero > 0
    ax = time_sequence(packets, 0)
    assert any(line.get_label() == "zero window" for line in ax.lines)
    save(ax, "time-sequence-zero-window.png")
    with pytest.raises(ValueError, match="no segments"):
        time_sequence(packets, 7)


def test_plot_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ts.png"
    capture = ROOT / "pcaps" / "tcp-hello-world-slow-reader.pcap"
    assert main(["plot", str(capture), "--stream", "0", "-o", str(out)]) == 0
    assert out.stat().st_size > 10000
    assert main(["plot", str(capture), "--frame", "1", "-o", str(out)]) == 0
    assert main(["plot", str(capture), "--frame", "99", "-o", str(out)]) == 1
    assert "no frame 99" in capsys.readouterr().err


def test_the_state_diagram_draws_one_arrow_per_rule_of_the_table() -> None:
    from matplotlib.patches import FancyArrowPatch

    from headerkit.plots.states import arrow_label, drawn_rules, state_diagram
    from headerkit.tcp_states import TRANSITIONS, Event, TcpState

    ax = state_diagram()
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    rules = drawn_rules()
    assert len(arrows) == len(rules)
    texts = [t.get_text() for t in ax.texts]
    for name in TcpState:
        assert texts.count(name.value) == (2 if name is TcpState.CLOSED else 1)
    for _, event, _, send in rules:
        assert arrow_label(event, send) in texts
    # the table's own words: the handshake's arrows say what they send
    assert "rcv SYN\n/ snd SYN,ACK" in texts and "connect\n/ snd SYN" in texts
    # every rule that is not an abort, a RST or a give-up is drawn
    kept = {(s, e) for s, e, _, _ in rules}
    for state, events in TRANSITIONS.items():
        for event in set(events) - {Event.ABORT, Event.RCV_RST, Event.TIMEOUT}:
            assert (state, event) in kept
    save(ax, "states.png")


def test_the_state_diagram_marks_each_sides_path() -> None:
    from matplotlib.patches import FancyArrowPatch

    from headerkit.plots.states import drawn_rules, state_diagram

    result = simulate(load_scenario("close:simultaneous"))
    ax = state_diagram({"a": result.paths[0], "b": result.paths[1]})
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(drawn_rules()) + len(result.paths[0]) + len(result.paths[1])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("FIN-WAIT-1 → CLOSING → TIME-WAIT" in line for line in legend)
    assert len(legend) == 2
    save(ax, "states-simultaneous-close.png")


def test_plot_states_from_a_capture_and_from_a_scenario(tmp_path: Path) -> None:
    pcap = tmp_path / "close.pcap"
    assert main(["simulate", "close:simultaneous", "--summary", "--pcap", str(pcap)]) == 0
    for highlight in (str(pcap), "close:reset"):
        out = tmp_path / "states.png"
        assert main(["plot", "states", "--highlight", highlight, "-o", str(out)]) == 0
        assert out.stat().st_size > 20_000
    assert main(["plot", "states", "--highlight", str(pcap), "--stream", "5", "-o", "x.png"]) == 1


def test_a_simulations_ladder_has_an_arrow_per_segment_and_lost_ones_end_mid_way() -> None:
    from headerkit.plots.ladder import draw_ladder, ladder_text, simulation_ladder

    result = simulate(load_scenario("lossy:timeout"))
    sends = [e for e in result.entries if e.kind is Kind.SEND]
    ladder = simulation_ladder(result)
    assert len(ladder.rungs) == len(sends)
    lost = [r for r in ladder.rungs if r.arrived is None]
    assert len(lost) == sum(e.text in ("lost", "dropped") for e in sends) == 1
    assert all(r.arrived is None or r.arrived > r.sent for r in ladder.rungs)
    assert any("[retransmission]" in r.label for r in ladder.rungs)
    notes = [n.text for n in ladder.notes]
    assert "CLOSED -> SYN-SENT (connect)" in notes and "close() = 0" in notes
    ax = draw_ladder(ladder)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(sends)
    assert sum(1 for t in ax.texts if t.get_text().endswith("(lost)")) == 1
    save(ax, "ladder-lossy-timeout.png")
    text = list(ladder_text(ladder))
    assert sum("─▶" in line for line in text) == sum(e.side == 0 for e in sends) - 1
    assert sum("◀─" in line for line in text) == sum(e.side == 1 for e in sends)
    assert sum("✕" in line and "(lost)" in line for line in text) == 1


def test_a_captures_ladder_keeps_every_answer_after_what_it_answers() -> None:
    from headerkit.captures.decoded import decode_capture
    from headerkit.plots.ladder import capture_ladder

    path = ROOT / "pcaps" / "tcp-hello-world-slow-reader.pcap"
    ladder = capture_ladder(decode_capture(path), 0)
    assert len(ladder.rungs) == sum(1 for p in decode_capture(path) if p.tcp is not None)
    assert all(r.arrived is not None and r.arrived >= r.sent for r in ladder.rungs)
    # each side's first answer leaves after the segment it answers arrived
    syn, synack, ack = ladder.rungs[:3]
    assert syn.arrived is not None and synack.sent >= syn.arrived
    assert synack.arrived is not None and ack.sent >= synack.arrived
    states = [n.text for n in ladder.notes]
    assert states[0] == "CLOSED -> SYN-SENT (connect)"
    assert "LAST-ACK -> CLOSED (ACK of FIN)" in states


def test_ladder_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "hello-world", "--summary", "--ladder", "-"]) == 0
    out = capsys.readouterr().out
    assert "─▶" in out and "◀─" in out and "recv(4) = 4 'Hell'" in out
    png = tmp_path / "ladder.png"
    pcap = ROOT / "pcaps" / "tcp-hello-world-slow-reader.pcap"
    assert main(["plot", str(pcap), "--ladder", "-o", str(png)]) == 0
    assert png.stat().st_size > 20_000
    assert main(["plot", str(pcap), "--ladder", "--stream", "4", "-o", "-"]) == 1
    assert "no TCP stream 4" in capsys.readouterr().err


def test_socket_buffers_follow_the_bytes_from_application_to_application() -> None:
    from headerkit.plots.simulation import socket_buffers

    result = simulate(load_scenario("send:sendall"))
    a = [b for b in result.buffers if b.side == 0]
    # sendall() hands over the 200 000 bytes bit by bit: what waits in the application
    # only shrinks, and the send buffer never holds more than its size
    waiting = [b.app for b in a if b.app]
    assert waiting[0] == 200_000 - load_scenario("send:sendall").a.tcp.sndbuf
    assert waiting == sorted(waiting, reverse=True)
    assert max(b.unsent + b.in_flight for b in a) <= load_scenario("send").a.tcp.sndbuf
    # every byte b's recv() calls copied out is accounted for
    assert sum(b.copied for b in result.buffers if b.side == 1) == 200_000
    ax = socket_buffers(result, 0)
    assert [t.get_text() for t in ax.get_legend().get_texts()][:4] == [
        "application, not yet taken by send()",
        "send buffer: unsent",
        "send buffer: in flight",
        "receive buffer: unread",
    ]
    save(ax, "socket-buffers-sendall-a.png")
    ax = socket_buffers(result, 1)
    copies = [c for c in ax.collections if c.get_label() == "recv() copied out"]
    assert len(copies) == 1 and len(copies[0].get_segments()) == len(result.streams[1].recvs) - 1
    save(ax, "socket-buffers-sendall-b.png")


def test_the_usable_window_marks_each_change_of_binding_limit() -> None:
    from headerkit.plots.simulation import binding_runs, usable_window

    result = simulate(load_scenario("window:switch"))
    samples = [b for b in result.buffers if b.side == 0 and b.rwnd >= 0]
    runs = binding_runs(samples)
    assert [limit for _, _, limit in runs][:3] == ["cwnd", "rwnd", "cwnd"]
    ax = usable_window(result)
    marks = [t.get_text() for t in ax.texts]
    assert marks == [f"{limit} binds" for _, _, limit in runs[1:]]
    assert len(ax.get_lines()) >= 3 + len(runs)
    save(ax, "usable-window-switch.png")
    plain = simulate(load_scenario("window"))
    only = binding_runs([b for b in plain.buffers if b.side == 0 and b.rwnd >= 0])
    assert [limit for _, _, limit in only] == ["cwnd"]


def test_every_flow_control_line_is_on_a_readable_scale() -> None:
    """zero-window's cwnd is many times its 4 KiB window: it gets the right-hand axis, and
    nothing on the left runs off the top."""
    ax = flow_control(simulate(load_scenario("zero-window")))
    twins = [a for a in ax.figure.axes if a is not ax]
    assert len(twins) == 1 and [line.get_label() for line in twins[0].lines] == [
        "cwnd (right axis)"
    ]
    for axes in (ax, twins[0]):
        top = axes.get_ylim()[1]
        assert all(max(line.get_ydata(), default=0) <= top for line in axes.lines)
    plt.close(ax.figure)


def test_boundaries_label_each_segment_and_start_at_byte_zero() -> None:
    ax = simulation_boundaries(simulate(load_scenario("hello-world:slow-reader")))
    texts = [t.get_text() for t in ax.texts]
    assert "P. 1:6(5)" in texts and "P. 6:11(5)" in texts
    assert ax.get_xlim()[0] == 0
    assert [t.get_text() for t in ax.get_yticklabels()] == ["send()", "segments", "recv()"]
    plt.close(ax.figure)


def test_the_time_sequence_graph_shows_the_loss_story() -> None:
    ax = simulation_time_sequence(simulate(load_scenario("lossy:slow-start")))
    labels = {line.get_label() for line in ax.lines} | {c.get_label() for c in ax.collections}
    assert {"duplicate ACK", "retransmission", "ACK", "window edge (ACK + rwnd)"} <= labels
    dups = next(line for line in ax.lines if line.get_label() == "duplicate ACK")
    assert len(dups.get_xdata()) >= 3  # enough for a fast retransmission
    save(ax, "time-sequence-slow-start.png")
