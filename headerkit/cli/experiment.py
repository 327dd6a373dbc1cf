"""``headerkit experiment boundaries``: send() calls, the wire and recv() calls side by side."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from headerkit.packet.layers import TCP
from headerkit.packet.summary import flags_text, option_text
from headerkit.schemas import tcp as t

if TYPE_CHECKING:
    from headerkit.interop.experiment import Run
    from headerkit.packet.decode import Packet

_WIRE_WIDTH = 60  # the wire column; the server's calls are printed to its right


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "experiment",
        help="run a teaching experiment on real sockets",
        description="Teaching experiments run on loopback sockets while headerkit captures.",
    )
    kinds = p.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    b = kinds.add_parser(
        "boundaries",
        help="TCP keeps no send() boundaries, UDP keeps every datagram",
        description=(
            "A client sends messages a moment apart and closes; a server reads them with "
            "recv() of a given size.  Prints the send() calls, the packets on the wire "
            "(decoded by headerkit) and what each recv() returned, in time order."
        ),
    )
    b.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    b.add_argument(
        "--send",
        action="append",
        metavar="TEXT",
        help="a message for one send() (repeatable; default: Hello, then World)",
    )
    b.add_argument(
        "--recv",
        type=_sizes,
        metavar="N[,N...]",
        help="recv() sizes in turn, the last repeating: 4, 10, 3,7 (default 4; UDP 65535)",
    )
    b.add_argument("--gap", type=float, default=0.2, help="seconds between sends (0.2)")
    b.add_argument(
        "--server-delay", type=float, default=0.0, help="seconds the server waits to read (0)"
    )
    b.add_argument(
        "--frame",
        choices=("lines", "length"),
        help="frame each message (a newline, or a 4-byte length) and rebuild them from recv()",
    )
    b.add_argument("--host", default="127.0.0.1", help="loopback address: 127.0.0.1 or ::1")
    b.add_argument("--iface", default="lo", help="interface to capture on (lo)")
    b.add_argument("--no-capture", action="store_true", help="run without capturing (no root)")
    b.add_argument("-o", "--output", help="write the capture to a pcap (or .pcapng) file")
    p.set_defaults(run=run)


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in text.split(","))
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError("recv sizes must be at least 1")
    return sizes


def run(args: argparse.Namespace) -> int:
    from headerkit.captures.live import CaptureError
    from headerkit.interop.experiment import boundaries

    messages = [m.encode() for m in args.send] if args.send else [b"Hello", b"World"]
    try:
        result = boundaries(
            args.proto,
            messages,
            recv_sizes=args.recv,
            gap=args.gap,
            server_delay=args.server_delay,
            frame=args.frame,
            host=args.host,
            capture=not args.no_capture,
            iface=args.iface,
        )
    except CaptureError as err:
        print(f"headerkit experiment: {err}; or run it with --no-capture", file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print(f"headerkit experiment: {err}", file=sys.stderr)
        return 1
    print(render(result))
    if args.output:
        count = result.write(args.output)
        print(f"\nwrote {count} packets to {args.output}")
    return 0


def render(run: Run) -> str:
    """The run as a timeline (client | wire | server) followed by the three views compared."""
    rows: list[tuple[int, str, str]] = [
        (c.time_ns, c.side, _call_text(c.name, c.data, c.result, c.note)) for c in run.calls
    ]
    wire = _Wire(run)
    rows += [(p.timestamp_ns or 0, "wire", wire.text(p)) for p in run.packets]
    rows.sort(key=lambda r: r[0])
    t0 = rows[0][0] if rows else 0
    lines = [_title(run), ""]
    lines.append(f"{'time':>7}  {'client':<20}{'wire (decoded by headerkit)':<{_WIRE_WIDTH}}server")
    for when, side, text in rows:
        stamp = f"{(when - t0) / 1e9:7.3f}  "
        if side == "client":
            lines.append(stamp + text)
        elif side == "wire":
            lines.append(stamp + " " * 20 + text)
        else:
            lines.append(stamp + " " * (20 + _WIRE_WIDTH) + text)
    if not run.records:
        lines.append(f"{'':9}{'':20}(nothing captured)")
    lines.append("")
    lines += _comparison(run)
    return "\n".join(lines)


def _show(data: bytes) -> str:
    return repr(data)[1:]


def _call_text(name: str, data: bytes, result: int | None, note: str) -> str:
    if name in ("send", "sendto"):
        text = f"{name}({_show(data)}) = {result}"
    elif name.startswith("recv"):
        text = f"{name} → {_show(data)}" + ("  (end of stream)" if not data else "")
    else:
        text = f"{name}()"
    return f"{text}  [{note}]" if note else text


def _title(run: Run) -> str:
    sends = ", ".join(_show(d) for d in run.sends)
    name = "recv" if run.proto == "tcp" else "recvfrom"
    sizes = "/".join(str(s) for s in run.recv_sizes)
    wait = f"waits {run.server_delay:g} s, then " if run.server_delay else ""
    until = " until the end of the stream" if run.proto == "tcp" else ", one call per datagram"
    seq = "; seq/ack relative to each side's first" if run.proto == "tcp" else ""
    return (
        f"{run.proto.upper()} on {run.host} port {run.port}: the client sends {sends} "
        f"{run.gap:g} s apart; the server {wait}reads with {name}({sizes}){until}{seq}."
    )


class _Wire:
    """Wire-column text: direction, flags, relative seq/ack, window, length, options."""

    def __init__(self, run: Run) -> None:
        self.port = run.port
        self.isn: dict[int | None, int] = {}

    def text(self, pkt: Packet) -> str:
        seg = pkt.transport
        if seg is None:
            return "(not TCP/UDP)"
        arrow = "→" if seg.dstport == self.port else "←"
        data = f" {_show(pkt.payload)}" if pkt.payload else ""
        if not isinstance(seg, TCP):
            return f"{arrow} UDP len={seg.payload_length}{data}"
        isn = self.isn.setdefault(seg.srcport, seg.seq or 0)
        peer = self.isn.get(seg.dstport)
        ack = (seg.ack or 0) - peer if peer is not None and seg.has(t.ACK) else seg.ack
        options = [option_text(o) for o in seg.options if o.kind not in (t.NOP, t.EOL)]
        options = ["TS" if o.startswith("TS ") else o for o in options]
        shown = f" <{','.join(options)}>" if options else ""
        return (
            f"{arrow} {flags_text(seg):<10} seq={(seg.seq or 0) - isn} ack={ack} "
            f"win={seg.window} len={seg.payload_length}{shown}{data}"
        )


def _comparison(run: Run) -> list[str]:
    send, recv = ("send", "recv") if run.proto == "tcp" else ("sendto", "recvfrom")

    def row(label: str, chunks: list[bytes]) -> str:
        return f"{label:<18}" + (" | ".join(_show(c) for c in chunks) or "(none)")

    lines = [row(f"{send}() calls", run.sends)]
    if run.records:
        lines.append(row("data on the wire", run.wire_payloads))
    lines.append(row(f"{recv}() calls", run.recvs))
    if run.frame is not None:
        lines.append(row(f"framed ({run.frame})", run.messages))
    lines.append(_verdict(run, send, recv))
    return lines


def _verdict(run: Run, send: str, recv: str) -> str:
    sent, got = b"".join(run.sends), b"".join(run.recvs)
    if run.proto == "udp":
        if run.recvs == run.sends:
            return f"Each {recv}() returned one whole datagram: UDP kept every {send}() boundary."
        return (
            f"{recv}() returned at most {max(run.recv_sizes)} bytes of each datagram and the "
            "rest was lost: UDP never splits a datagram over two calls."
        )
    if got != sent:
        return f"The stream delivered {len(got)} of the {len(sent)} bytes sent."
    if run.recvs == run.sends:
        return (
            f"Each {recv}() matched a {send}() this time, by timing alone: TCP promised "
            "nothing of the sort."
        )
    return (
        f"The same {len(sent)} bytes in the same order, but {len(run.sends)} {send}() calls "
        f"came back as {len(run.recvs)} {recv}() results: TCP kept no {send}() boundaries."
    )
