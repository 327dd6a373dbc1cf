"""``headerkit experiment boundaries|partial-send|echo``: socket calls and the wire side by side."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from headerkit.cli import args as types
from headerkit.packet.layers import TCP
from headerkit.packet.summary import flags_text, option_text
from headerkit.schemas import tcp as t
from headerkit.words import counted

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
    b.add_argument("--gap", type=types.seconds, default=0.2, help="seconds between sends (0.2)")
    b.add_argument(
        "--server-delay", type=types.seconds, default=0.0, help="seconds the server waits (0)"
    )
    b.add_argument(
        "--frame",
        choices=("lines", "length"),
        help="frame each message (a newline, or a 4-byte length) and rebuild them from recv()",
    )
    _common(b)
    s = kinds.add_parser(
        "partial-send",
        help="send() may take fewer bytes than asked; sendall() loops until all are taken",
        description=(
            "A client with a small send buffer makes a non-blocking send() of many bytes "
            "(it takes what fits), another one, then a sendall() loop of send() calls for the "
            "rest; a server with a small receive buffer reads after a delay."
        ),
    )
    s.add_argument("--size", type=types.positive, default=30_000, help="bytes to send (30000)")
    s.add_argument("--sndbuf", type=types.positive, default=4096, help="client SO_SNDBUF (4096)")
    s.add_argument("--rcvbuf", type=types.positive, default=4096, help="server SO_RCVBUF (4096)")
    s.add_argument(
        "--server-delay", type=types.seconds, default=0.5, help="seconds the server waits (0.5)"
    )
    _common(s)
    e = kinds.add_parser(
        "echo",
        help="an echo server and a client reading with recv(len, MSG_WAITALL)",
        description=(
            "The client sends its messages, then reads the echo with one recv(len, "
            "MSG_WAITALL); the server sends back what each recv() returned. --no-waitall "
            "shows the short read a plain recv() gives, and the loop that fixes it."
        ),
    )
    e.add_argument("--send", action="append", metavar="TEXT", help="a message (Hello, World)")
    e.add_argument("--recv", type=types.positive, default=4, help="the server's recv() size (4)")
    e.add_argument("--no-waitall", action="store_true", help="a plain recv() on the client")
    e.add_argument("--gap", type=types.seconds, default=0.2, help="seconds between sends (0.2)")
    _common(e)
    p.set_defaults(run=run)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host", type=types.loopback, default="127.0.0.1", help="loopback: 127.0.0.1 or ::1"
    )
    p.add_argument("--iface", default="lo", help="interface to capture on (lo)")
    p.add_argument("--no-capture", action="store_true", help="run without capturing (no root)")
    p.add_argument("-o", "--output", help="write the capture to a pcap (or .pcapng) file")


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in text.split(","))
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError("recv sizes must be at least 1")
    return sizes


def run(args: argparse.Namespace) -> int:
    from headerkit.captures.live import CaptureError
    from headerkit.interop.experiment import boundaries, echo, partial_send

    capture = {"host": args.host, "capture": not args.no_capture, "iface": args.iface}
    messages = [m.encode() for m in args.send] if getattr(args, "send", None) else None
    try:
        if args.experiment == "partial-send":
            result = partial_send(
                args.size,
                sndbuf=args.sndbuf,
                rcvbuf=args.rcvbuf,
                server_delay=args.server_delay,
                **capture,
            )
        elif args.experiment == "echo":
            result = echo(
                messages or [b"Hello", b"World"],
                waitall=not args.no_waitall,
                recv_size=args.recv,
                gap=args.gap,
                **capture,
            )
        else:
            result = boundaries(
                args.proto,
                messages or [b"Hello", b"World"],
                recv_sizes=args.recv,
                gap=args.gap,
                server_delay=args.server_delay,
                frame=args.frame,
                **capture,
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
    return repr(data)[1:] if len(data) <= 24 else f"<{len(data)} bytes>"


def _call_text(name: str, data: bytes, result: int | None, note: str) -> str:
    if name in ("send", "sendto"):
        text = f"{name}({_show(data)}) = {result}"
    elif name.startswith("recv"):
        text = f"{name} → {_show(data)}" + ("  (end of stream)" if not data else "")
    else:
        text = f"{name}()"
    return f"{text}  [{note}]" if note else text


def _title(run: Run) -> str:
    if run.experiment == "partial-send":
        asked = next(len(c.data) for c in run.calls if c.name == "send")
        return (
            f"TCP on {run.host} port {run.port}: a client with a small send buffer sends "
            f"{asked} bytes, non-blocking, then in a sendall() loop; the server waits "
            f"{run.server_delay:g} s, then reads to the end of the stream."
        )
    if run.experiment == "echo":
        waitall = any("MSG_WAITALL" in c.name for c in run.calls)
        how = "one recv(len, MSG_WAITALL)" if waitall else "plain recv() calls"
        return (
            f"TCP on {run.host} port {run.port}: the client sends "
            f"{', '.join(_show(d) for d in run.sends)}; the server echoes what each "
            f"recv({run.recv_sizes[0]}) returns; the client reads the echo with {how}."
        )
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


def _row(label: str, chunks: list[bytes]) -> str:
    return f"{label:<18}" + (" | ".join(_show(c) for c in chunks) or "(none)")


def _comparison(run: Run) -> list[str]:
    if run.experiment == "partial-send":
        return _partial_send_views(run)
    if run.experiment == "echo":
        return _echo_views(run)
    send, recv = ("send", "recv") if run.proto == "tcp" else ("sendto", "recvfrom")
    row = _row

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
        f"The same {len(sent)} bytes in the same order, but "
        f"{counted(len(run.sends), send + '() call')} came back as "
        f"{counted(len(run.recvs), recv + '() result')}: TCP kept no {send}() boundaries."
    )


def _partial_send_views(run: Run) -> list[str]:
    calls = [c for c in run.calls if c.side == "client" and c.name == "send"]
    asked = len(calls[0].data)
    first = max(calls[0].result or 0, 0)
    taken = ["EAGAIN" if (c.result or 0) < 0 else f"{c.result} of {len(c.data)}" for c in calls]
    loop = [c for c in calls if c.note.startswith("sendall")]
    sent, got = b"".join(run.sends), b"".join(run.recvs)
    return [
        f"{'send() took':<18}" + " | ".join(taken),
        _row("recv() calls", run.recvs),
        f"One non-blocking send() of {asked} bytes took {first}: {asked - first} bytes were "
        "not taken, and send() said so by returning the count. "
        f"A sendall() loop of {len(loop)} send() calls handed over the rest; "
        + (
            f"all {len(sent)} bytes arrived, in order."
            if got == sent and len(sent) == asked
            else f"{len(got)} of {asked} bytes arrived."
        ),
    ]


def _echo_views(run: Run) -> list[str]:
    total = sum(len(d) for d in run.sends)
    reads = [c for c in run.calls if c.side == "client" and c.name.startswith("recv")]
    lines = [
        _row("client send()", run.sends),
        _row("server recv()", run.recvs),
        _row("echoed by send()", run.echoed),
        _row("client recv()", run.client_recvs),
    ]
    if any("MSG_WAITALL" in c.name for c in reads):
        lines.append(
            f"With MSG_WAITALL one recv({total}) waited for all {total} bytes, although the "
            f"server echoed them in {len(run.echoed)} pieces."
        )
    else:
        first = len(reads[0].data) if reads else 0
        lines.append(
            f"Without MSG_WAITALL recv({total}) returned {first} bytes (a short read): "
            f"{len(reads)} recv() calls were needed for {total} bytes, as a loop must."
        )
    return lines
