"""``headerkit capture``: live packets from an interface, each once, to the screen or a file."""

from __future__ import annotations

import argparse
import sys

from headerkit.captures import Record, write_capture
from headerkit.cli import args as types
from headerkit.interop.craft import format_for
from headerkit.packet.decode import decode
from headerkit.packet.summary import summary_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "capture",
        help="capture live packets with scapy (root or CAP_NET_RAW)",
        description=(
            "Capture packets with scapy's sniffer and print them as headerkit decodes them. "
            "On loopback each packet is kept once: the copy the kernel shows as outgoing "
            "(PACKET_OUTGOING) is dropped, as libpcap does.  Stops after --count packets, "
            "--timeout seconds, or Ctrl-C."
        ),
    )
    p.add_argument("-i", "--iface", default="lo", help="interface (default lo)")
    p.add_argument("-f", "--filter", help='BPF filter, e.g. "tcp port 5000"')
    p.add_argument("-c", "--count", type=types.count, default=0, help="stop after N packets")
    p.add_argument("--timeout", type=types.seconds, help="stop after this many seconds")
    p.add_argument("-o", "--output", help="write a pcap (or .pcapng) file")
    p.add_argument(
        "--format", choices=("pcap", "pcapng"), help="file format (default: from the file name)"
    )
    p.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="on loopback, keep the outgoing copy of each packet too",
    )
    p.add_argument("--promisc", action="store_true", help="put the interface in promiscuous mode")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the packets")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from headerkit.captures.live import CaptureError, LiveCapture

    first: list[int] = []

    def show(record: Record) -> None:
        pkt = decode(record.data, record.linktype, wirelen=record.wirelen)
        pkt.number, pkt.timestamp_ns = record.number, record.timestamp_ns
        first.append(record.timestamp_ns)
        print(summary_line(pkt, first[0]), flush=True)

    live = LiveCapture(
        args.iface,
        args.filter,
        count=args.count,
        keep_duplicates=args.keep_duplicates,
        promisc=args.promisc,
        on_packet=None if args.quiet else show,
    )
    try:
        live.start()
    except CaptureError as err:
        print(f"headerkit capture: {err}", file=sys.stderr)
        return 1
    try:
        live.wait(args.timeout)
    except KeyboardInterrupt:
        pass
    finally:
        records = live.stop()
    dropped = f" ({live.duplicates} loopback duplicates dropped)" if live.duplicates else ""
    print(f"captured {len(records)} packets{dropped}", file=sys.stderr)
    if live.kernel_drops:
        print(
            f"headerkit: warning: the kernel dropped {live.kernel_drops} packets: the capture "
            "buffer filled before they were read",
            file=sys.stderr,
        )
    if args.output:
        write_capture(args.output, records, args.format or format_for(args.output))
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
