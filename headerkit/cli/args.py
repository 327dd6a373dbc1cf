"""argparse types shared by the subcommands: each refuses what it cannot take with a message
that names the limit (argparse adds the option's name and exits with status 2)."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Iterator

from headerkit.captures.compression import NAMES
from headerkit.captures.decoded import decode_capture
from headerkit.errors import FilterError
from headerkit.packet.decode import Packet
from headerkit.packet.defrag import reassemble
from headerkit.schemas.tcp import TCP_LAYOUT
from headerkit.tables.filter import Filter, compile_filter, select

_PORT_BITS = dict((name, width) for name, _, width in TCP_LAYOUT.bits)["srcport"]
PORT_MAX = (1 << _PORT_BITS) - 1


def count(text: str) -> int:
    """A whole number, 0 or more."""
    value = int(text, 0)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive(text: str) -> int:
    """A whole number, 1 or more."""
    value = int(text, 0)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def seconds(text: str) -> float:
    """A time in seconds, 0 or more and finite."""
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 seconds or more, not {text}")
    return value


def port(text: str) -> int:
    """A TCP/UDP port: the width of the header's port fields."""
    value = int(text, 0)
    if not 0 <= value <= PORT_MAX:
        raise argparse.ArgumentTypeError(
            f"a port is 0 to {PORT_MAX} ({_PORT_BITS} bits), not {value}"
        )
    return value


def address(text: str) -> str:
    """An IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 or IPv6 address: {text!r}") from None


def loopback(text: str) -> str:
    """A loopback address: the experiments send only to 127.0.0.0/8 or ::1."""
    value = address(text)
    if not ipaddress.ip_address(value).is_loopback:
        raise argparse.ArgumentTypeError(
            f"must be a loopback address (127.0.0.0/8 or ::1): {value}"
        )
    return value


def hex_bytes(text: str) -> bytes:
    """Bytes written in hex (spaces allowed)."""
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not hex bytes: {text!r}") from None


def add_compress(parser: argparse.ArgumentParser) -> None:
    """``--compress``: how a capture the command writes is compressed (default: as the file
    name's extension says, e.g. ``.pcap.gz``; none otherwise)."""
    parser.add_argument(
        "--compress",
        choices=NAMES,
        help="compress the capture written (default: from the file name: .gz .zst .lz4 .xz .bz2)",
    )


def display_filter(text: str) -> Filter:
    """A display filter in tshark's syntax, compiled."""
    try:
        return compile_filter(text)
    except FilterError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_filter(parser: argparse.ArgumentParser) -> None:
    """``--filter EXPR``: only the packets a tshark display filter selects."""
    parser.add_argument(
        "-Y",
        "--filter",
        type=display_filter,
        metavar="EXPR",
        help="only packets this display filter selects, in tshark's syntax "
        "('tcp.port == 80 and tcp.len > 0', 'ip.addr == 10.0.0.0/8', 'tcp.analysis.flags')",
    )


def add_reassemble(parser: argparse.ArgumentParser, default: bool) -> None:
    """``--reassemble`` / ``--no-reassemble``: IP fragments put back together, as tshark does
    by default."""
    parser.add_argument(
        "--reassemble",
        action=argparse.BooleanOptionalAction,
        default=default,
        help="reassemble IPv4 and IPv6 fragments: the frame that completes a datagram "
        f"carries its transport header (default: {'on' if default else 'off'})",
    )


def packets(args: argparse.Namespace) -> Iterator[Packet]:
    """The capture's packets as the options ask: reassembled, then filtered."""
    found: Iterator[Packet] = iter(decode_capture(args.file))
    if getattr(args, "reassemble", False):
        found = reassemble(found)
    if getattr(args, "filter", None) is not None:
        found = select(found, args.filter)
    return found
