"""``headerkit craft``: TCP segments and UDP datagrams from options or a TOML spec."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from headerkit.captures.compression import NAMES
from headerkit.cli import args as types
from headerkit.interop import craft
from headerkit.packet.layers import TcpOption
from headerkit.packet.summary import summary_line
from headerkit.words import counted


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "craft",
        help="craft TCP/UDP packets into a pcap/pcapng file",
        description=(
            "Craft packets with every derived field computed, or forced with an option to "
            "make a broken one on purpose.  'craft tcp ...' and 'craft udp ...' make one "
            "packet; 'craft --spec FILE.toml' makes the packets a spec lists."
        ),
    )
    p.add_argument("--spec", help="a TOML spec of several packets (see pcaps/specs/)")
    _output_options(p, None)
    kinds = p.add_subparsers(dest="proto", metavar="{tcp,udp}")
    tcp = kinds.add_parser("tcp", help="one TCP segment", description="Craft one TCP segment.")
    _ip_options(tcp)
    _tcp_options(tcp)
    _payload_options(tcp)
    _output_options(tcp, argparse.SUPPRESS)
    udp = kinds.add_parser("udp", help="one UDP datagram", description="Craft one UDP datagram.")
    _ip_options(udp)
    udp.add_argument("--length", type=_int, help="force the UDP length (e.g. 7, or past the data)")
    udp.add_argument("--checksum", type=_int, help="force the UDP checksum (e.g. 0x1234)")
    _payload_options(udp)
    _output_options(udp, argparse.SUPPRESS)
    p.set_defaults(run=run)


def _int(text: str) -> int:
    """An integer in decimal or with a 0x/0o/0b prefix."""
    return int(text, 0)


def _output_options(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument("-o", "--output", default=default, help="write a pcap (or .pcapng) file")
    p.add_argument(
        "--compress",
        choices=NAMES,
        default=default,
        help="compress it (default: from the file name: .gz .zst .lz4 .xz .bz2)",
    )
    p.add_argument(
        "--format",
        choices=("pcap", "pcapng"),
        default=default,
        help="file format (default: from the file name)",
    )


def _ip_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("IP")
    g.add_argument("--src", default=craft.SRC, help="source address; IPv6 if it is one")
    g.add_argument("--dst", default=craft.DST, help="destination address")
    g.add_argument("--ttl", type=_int, default=64, help="TTL / hop limit")
    g.add_argument("--ip-id", type=_int, default=0, help="IPv4 identification")
    g.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="set any IP header field: tos, flags, total_length, checksum, traffic_class, "
        "options (in hex), ...",
    )
    g = p.add_argument_group("ports")
    g.add_argument("--sport", type=_int, default=40000, help="source port (40000)")
    g.add_argument("--dport", type=_int, default=80, help="destination port (80)")


def _tcp_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("TCP header")
    g.add_argument("--seq", type=_int, default=0)
    g.add_argument("--ack", type=_int, default=0)
    g.add_argument("--flags", default="S", help='"S", "SA", "PA", "F.", "SYN,ACK" or a number')
    g.add_argument("--window", type=_int, default=65535)
    g.add_argument("--urgent-pointer", type=_int, default=0)
    g.add_argument("--data-offset", type=_int, help="force the data offset (e.g. 4 or 15)")
    g.add_argument("--checksum", type=_int, help="force the TCP checksum (e.g. 0x1234)")
    g = p.add_argument_group("TCP options")
    g.add_argument("--mss", type=_int)
    g.add_argument("--wscale", type=_int, help="window scale shift")
    g.add_argument("--sack-perm", action="store_true", help="SACK permitted")
    g.add_argument("--timestamps", type=_int, nargs=2, metavar=("TSVAL", "TSECR"))
    g.add_argument("--sack", action="append", metavar="LE:RE", help="a SACK block (repeatable)")
    g.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KIND[:HEX]",
        help="any option by number, its value in hex (e.g. 30:0081 for MPTCP)",
    )
    g.add_argument(
        "--options-raw",
        type=types.hex_bytes,
        metavar="HEX",
        help="the option space's bytes, as given",
    )


def _payload_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--payload", default="", help="payload as text")
    g.add_argument("--payload-hex", help="payload in hex")


def _ip_fields(pairs: Sequence[str]) -> dict[str, int | bytes]:
    fields: dict[str, int | bytes] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--ip takes FIELD=VALUE, not {pair!r}")
        name = name.strip()
        fields[name] = bytes.fromhex(value) if name == "options" else int(value, 0)
    return fields


def _option(text: str) -> TcpOption:
    kind, _, data = text.partition(":")
    return TcpOption(int(kind, 0), None, bytes.fromhex(data))


def _sack(text: str) -> tuple[int, int]:
    left, sep, right = text.partition(":")
    if not sep:
        raise ValueError(f"--sack takes LE:RE, not {text!r}")
    return int(left, 0), int(right, 0)


def _flags(text: str) -> str | int | list[str]:
    if text[:1].isdigit():
        return int(text, 0)
    return text.split(",") if "," in text else text


def crafted(args: argparse.Namespace) -> craft.Crafted:
    """The packet the ``tcp``/``udp`` options describe."""
    payload = bytes.fromhex(args.payload_hex) if args.payload_hex else args.payload.encode()
    common: dict[str, Any] = {
        "src": args.src,
        "dst": args.dst,
        "sport": args.sport,
        "dport": args.dport,
        "ttl": args.ttl,
        "ip_id": args.ip_id,
        "payload": payload,
        "checksum": args.checksum,
        "ip_fields": _ip_fields(args.ip),
    }
    if args.proto == "udp":
        return craft.udp(length=args.length, **common)
    return craft.tcp(
        seq=args.seq,
        ack=args.ack,
        flags=_flags(args.flags),
        window=args.window,
        urgent_pointer=args.urgent_pointer,
        data_offset=args.data_offset,
        mss=args.mss,
        wscale=args.wscale,
        sack_perm=args.sack_perm,
        timestamps=tuple(args.timestamps) if args.timestamps else None,
        sack=[_sack(s) for s in args.sack] if args.sack else None,
        options=[_option(o) for o in args.option],
        options_raw=args.options_raw,
        **common,
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.spec is not None and args.proto is not None:
            raise ValueError("give either --spec or a tcp/udp packet, not both")
        if args.spec is not None:
            spec = craft.load_spec(args.spec)
        elif args.proto is not None:
            spec = craft.Spec((crafted(args),), (0,))
        else:
            raise ValueError("say what to craft: 'craft tcp ...', 'craft udp ...' or --spec FILE")
    except (OSError, ValueError) as err:
        print(f"headerkit craft: {err}", file=sys.stderr)
        return 2
    for number, packet in enumerate(spec.packets, 1):
        pkt = packet.packet
        pkt.number = number
        print(summary_line(pkt))
    if args.output is not None:
        count = spec.write(args.output, args.format, args.compress)
        print(f"wrote {counted(count, 'packet')} to {args.output}")
    return 0
