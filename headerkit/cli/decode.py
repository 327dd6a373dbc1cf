"""``headerkit decode FILE``: a capture as summary lines, field trees, JSON Lines or CSV."""

from __future__ import annotations

import argparse
import csv
import ipaddress
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from headerkit.captures.decoded import decode_capture
from headerkit.cli import args as types
from headerkit.errors import DecodeError
from headerkit.flows import annotate
from headerkit.flows.table import MAX_FLOWS
from headerkit.packet.decode import Packet
from headerkit.packet.defrag import reassemble
from headerkit.packet.summary import field_tree, summary_line
from headerkit.tables.filter import packet_record
from headerkit.tables.registry import EXPORTED, label
from headerkit.tables.tshark import tshark_fields

CSV_FIELDS = EXPORTED  # the field registry's record keys, in its order


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "decode",
        help="decode a pcap/pcapng file",
        description="Decode every packet of a capture; packets out = packets in.",
    )
    p.add_argument("file", help="a pcap or pcapng file")
    p.add_argument(
        "--format",
        choices=("summary", "jsonl", "csv", "parquet"),
        default="summary",
        help="one summary line per packet (default); JSON Lines, CSV or Parquet keyed by "
        "tshark's names",
    )
    p.add_argument("-o", "--output", help="write to this file (required for parquet)")
    p.add_argument("-V", "--verbose", action="store_true", help="a field tree per packet")
    p.add_argument("-c", "--count", type=types.count, help="stop after N packets (after selection)")
    p.add_argument("--tcp", action="store_true", help="only packets with a TCP header")
    p.add_argument("--udp", action="store_true", help="only packets with a UDP header")
    p.add_argument("--port", type=types.port, help="only packets to or from this TCP/UDP port")
    p.add_argument("--host", type=types.address, help="only packets to or from this IP address")
    types.add_filter(p)
    types.add_reassemble(p, default=False)
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first malformed packet or file damage, with exit status 1",
    )
    p.add_argument(
        "--flows",
        action="store_true",
        help="add tshark's per-flow fields to jsonl/csv: tcp.stream, udp.stream, relative "
        "tcp.seq/tcp.ack, tcp.window_size, tcp.window_size_scalefactor, tcp.analysis.*",
    )
    p.add_argument(
        "--absolute",
        action="store_true",
        help="raw TCP sequence and acknowledgment numbers in the summary (default: relative "
        "to each direction's first, as tshark shows them)",
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.add_argument(
        "--max-flows",
        type=types.positive,
        default=MAX_FLOWS,
        help=f"flows that keep their state at once with --flows (default {MAX_FLOWS:,})",
    )
    p.set_defaults(run=run)


Annotated = tuple[Packet, dict[str, Any]]


def selected(args: argparse.Namespace, packets: Iterator[Packet]) -> Iterator[Annotated]:
    """The packets the options select, each with its flow fields (with ``--flows``).

    Flows are numbered before the selection, as tshark numbers them.
    """
    host = ipaddress.ip_address(args.host).compressed if args.host else None
    left = args.count
    chosen = args.filter
    tracked = args.flows or _relative_summary(args) or (chosen is not None and chosen.needs_flows)
    pairs = (
        annotate(packets, max_flows=args.max_flows) if tracked else ((pkt, {}) for pkt in packets)
    )
    for pkt, extra in pairs:
        if left is not None and left <= 0:
            return
        if chosen is not None and not chosen.matches(
            packet_record(pkt, extra, chosen.needs_payload)
        ):
            continue
        if not (args.flows or _relative_summary(args)):
            extra = {}
        if args.tcp and pkt.tcp is None:
            continue
        if args.udp and pkt.udp is None:
            continue
        if args.port is not None:
            seg = pkt.transport
            if seg is None or args.port not in (seg.srcport, seg.dstport):
                continue
        if host is not None:
            ip = pkt.ip
            if ip is None or host not in (_norm(ip.src), _norm(ip.dst)):
                continue
        if left is not None:
            left -= 1
        yield pkt, extra


def _relative_summary(args: argparse.Namespace) -> bool:
    """Whether summary lines show relative sequence numbers (which need flow tracking)."""
    return args.format == "summary" and not args.verbose and not args.absolute


def _norm(addr: str | None) -> str | None:
    return ipaddress.ip_address(addr).compressed if addr else None


def record(pkt: Packet) -> dict[str, Any]:
    """The JSON/CSV record of a packet: tshark's field names, plus the capture time."""
    out = tshark_fields(pkt)
    if pkt.timestamp_ns is not None:
        out["frame.time_epoch"] = (
            f"{pkt.timestamp_ns // 1_000_000_000}.{pkt.timestamp_ns % 1_000_000_000:09d}"
        )
    return out


def run(args: argparse.Namespace) -> int:
    if args.format == "parquet" and not args.output:
        print("headerkit: --format parquet needs -o FILE", file=sys.stderr)
        return 2
    if args.format == "parquet" and not _selects(args):
        return _parquet_columnar(args.file, args.output)
    try:
        capture = decode_capture(args.file, strict=args.strict)
    except (DecodeError, OSError) as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    packets: Iterator[Packet] = iter(capture)
    if args.reassemble:
        packets = reassemble(packets)
    progress = None
    if not args.no_progress and sys.stderr.isatty() and os.path.getsize(args.file) > 8 << 20:
        packets, progress = _with_progress(packets, args.file)
    try:
        if args.format == "parquet":
            _write_parquet((pkt for pkt, _ in selected(args, packets)), args.output)
        elif args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                _write(args, selected(args, packets), out)
        else:
            _write(args, selected(args, packets), sys.stdout)
    except DecodeError as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    finally:
        capture.close()  # --count and --strict may stop before the end of the file
        if progress is not None:
            progress.stop()
    return 0


def _write(args: argparse.Namespace, packets: Iterator[Annotated], out: TextIO) -> None:
    if args.format == "jsonl":
        for pkt, extra in packets:
            out.write(json.dumps(record(pkt) | extra, separators=(",", ":")) + "\n")
    elif args.format == "csv":
        writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for pkt, extra in packets:
            writer.writerow({k: _cell(v) for k, v in (record(pkt) | extra).items()})
    else:
        t0: int | None = None
        for pkt, extra in packets:
            if t0 is None:
                t0 = pkt.timestamp_ns
            if args.verbose:
                out.write(field_tree(pkt, label) + "\n\n")
                continue
            relative = (extra["tcp.seq"], extra["tcp.ack"]) if "tcp.seq" in extra else None
            out.write(summary_line(pkt, t0, relative) + "\n")


def _selects(args: argparse.Namespace) -> bool:
    """Whether any option picks packets, stops early or adds per-packet fields."""
    return bool(
        args.tcp or args.udp or args.host or args.strict or args.flows or args.reassemble
    ) or any(x is not None for x in (args.port, args.count, args.filter))


def _parquet_columnar(source: str, path: str) -> int:
    """The whole capture to Parquet through the columnar decoder, a batch at a time."""
    import pyarrow.parquet as pq

    from headerkit.tables.fields import schema
    from headerkit.tables.table import capture_batches

    try:
        with pq.ParquetWriter(path, schema()) as writer:
            for batch in capture_batches(source):
                writer.write_batch(batch)
    except (DecodeError, OSError) as err:
        print(f"headerkit: {err}", file=sys.stderr)
        return 1
    return 0


def _write_parquet(packets: Iterator[Packet], path: str) -> None:
    """Stream the table to Parquet a batch at a time, so memory stays bounded."""
    import pyarrow.parquet as pq

    from headerkit.tables.fields import schema
    from headerkit.tables.table import record_batches

    with pq.ParquetWriter(path, schema()) as writer:
        for batch in record_batches(packets):
            writer.write_batch(batch)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return int(value)
    return value


def _with_progress(packets: Iterator[Packet], path: str) -> tuple[Iterator[Packet], Any]:
    """Wrap the stream in a rich progress bar on stderr, advanced by file position."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    size = os.path.getsize(path)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    )
    task = progress.add_task("decoding", total=size)
    progress.start()

    def advance() -> Iterator[Packet]:
        done = 0
        for i, pkt in enumerate(packets):
            done += len(pkt.data) + 16
            if i % 4096 == 0:
                progress.update(task, completed=min(done, size))
            yield pkt

    return advance(), progress
