"""``headerkit follow FILE --stream N``: one TCP stream reassembled, or the messages in it."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from headerkit.cli import args as types
from headerkit.errors import HeaderkitError
from headerkit.flows.follow import FollowedStream, follow
from headerkit.flows.messages import FramingBreak, Message, MessageSplitter
from headerkit.flows.reassembly import MAX_BUFFER, Chunk, Gap, Overlap, Refused
from headerkit.framing import framer_factory
from headerkit.words import counted

_RULE = "=" * 67
_SHOWN = 60  # bytes of a message shown before it is cut


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "follow",
        help="reassemble one TCP stream (like tshark -z follow,tcp,raw)",
        description=(
            "Reassemble both directions of TCP stream N (tshark's tcp.stream) and print them "
            "as tshark -q -z follow,tcp,raw,N does: one hex line per segment, node 1's "
            "indented by a tab.  Gaps, overlapping copies and refused bytes are reported on "
            "stderr.  With --frame, print the messages a framer recovers instead, each with "
            "the frames it spans."
        ),
    )
    p.add_argument("file", help="a pcap or pcapng file")
    p.add_argument("--stream", type=types.count, required=True, help="the tcp.stream index")
    p.add_argument(
        "--frame",
        metavar="FRAMING",
        help="'lines' (newline-delimited) or 'length:N' (N-byte big-endian length prefix, "
        "N = 1, 2, 4 or 8)",
    )
    p.add_argument(
        "--max-buffer",
        type=types.positive,
        default=MAX_BUFFER,
        help=f"bytes held out of order per direction (default {MAX_BUFFER})",
    )
    types.add_filter(p)
    types.add_reassemble(p, default=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        make_framer = framer_factory(args.frame) if args.frame else None
    except ValueError as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 2
    stream = follow(types.packets(args), args.stream, max_buffer=args.max_buffer)
    try:
        if make_framer is None:
            body = _raw(stream, sys.stderr)
        else:
            splitters = (MessageSplitter(make_framer), MessageSplitter(make_framer))
            body = _messages(stream, splitters, sys.stderr)
    except HeaderkitError as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    if stream.flow is None:
        print(f"headerkit: no TCP stream {args.stream} in {args.file}", file=sys.stderr)
        return 1
    title = "raw" if make_framer is None else f"messages ({args.frame})"
    sys.stdout.write(
        f"\n{_RULE}\nFollow: tcp,{title}\nFilter: tcp.stream eq {args.stream}\n"
        f"Node 0: {stream.flow.a}\nNode 1: {stream.flow.b}\n"
    )
    sys.stdout.writelines(body)
    sys.stdout.write(_RULE + "\n")
    return 0


def _raw(stream: FollowedStream, notes: TextIO) -> list[str]:
    """tshark's raw lines: each segment's new bytes in hex."""
    lines = []
    for ev in stream:
        if isinstance(ev.event, Chunk):
            lines.append(("\t" if ev.node else "") + ev.event.data.hex() + "\n")
        else:
            notes.write(f"headerkit: node {ev.node}: {describe(ev.event)}\n")
    return lines


def _messages(
    stream: FollowedStream, splitters: tuple[MessageSplitter, MessageSplitter], notes: TextIO
) -> list[str]:
    lines = []
    counts = [0, 0]
    for ev in stream:
        if not isinstance(ev.event, Chunk):
            notes.write(f"headerkit: node {ev.node}: {describe(ev.event)}\n")
        for item in splitters[ev.node].feed(ev.event):
            if isinstance(item, Message):
                counts[ev.node] += 1
            lines.append(_message_line(ev.node, counts[ev.node], item))
    for node, splitter in enumerate(splitters):
        stopped = splitter.close()
        if stopped is not None:
            lines.append(_message_line(node, counts[node], stopped))
    return lines


def _message_line(node: int, number: int, item: Message | FramingBreak) -> str:
    indent = "\t" if node else ""
    if isinstance(item, FramingBreak):
        return f"{indent}[node {node}: framing breaks at offset {item.offset}: {item.reason}]\n"
    shown = repr(item.data[:_SHOWN])
    if len(item.data) > _SHOWN:
        shown += f" (+{len(item.data) - _SHOWN} bytes)"
    mark = " after a gap" if item.after_gap else ""
    return (
        f"{indent}#{number} {_frames(item.frames)} offset {item.offset}, "
        f"{counted(len(item.data), 'byte')}{mark}: {shown}\n"
    )


def _frames(frames: tuple[int, ...]) -> str:
    """``frame 4``, ``frames 4-6``, ``frames 4, 7``."""
    if not frames:
        return "no frame"
    if len(frames) == 1:
        return f"frame {frames[0]}"
    if frames == tuple(range(frames[0], frames[-1] + 1)):
        return f"frames {frames[0]}-{frames[-1]}"
    return "frames " + ", ".join(map(str, frames))


def describe(event: Gap | Overlap | Refused) -> str:
    """A line about a gap, an overlap or a refusal, sequence numbers included."""
    if isinstance(event, Gap):
        length = counted(event.length, "byte")
        return f"gap of {length}, seq {event.seq}-{event.end_seq}: {event.reason}"
    if isinstance(event, Overlap):
        verdict = {True: "different bytes", False: "same bytes", None: "not compared"}
        kept = "earlier copy" if event.kept_frame is None else f"copy from frame {event.kept_frame}"
        return (
            f"frame {event.frame} repeats {counted(event.length, 'byte')} at seq {event.seq} "
            f"({verdict[event.conflict]}); the {kept} is kept"
        )
    length = counted(event.length, "byte")
    return f"frame {event.frame}: {length} at seq {event.seq} refused: {event.reason}"
