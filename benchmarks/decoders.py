"""Every benchmarked decoder, reduced to the same fields, and the checksum over them.

Each decoder path turns a capture into one *row* per packet, built from that decoder's own
output, and :func:`digest` folds the rows into a checksum, so a path that skips work gets a
different checksum.  A row is

* TCP: ``(vlan, src, dst, 6, sport, dport, seq, ack, data_offset, flags, window, kinds, mss,
  wscale, tsval, tsecr, sack)``
* UDP: ``(vlan, src, dst, 17, sport, dport, length)``
* anything else: ``()``

with ``vlan`` the first 802.1Q tag's VLAN id (0 untagged), addresses in their canonical text
form (``inet_ntop``), ``data_offset`` in 32-bit words, ``flags`` the 12 bits after the data
offset, ``kinds`` the option kinds in wire order up to and including the first EOL,
``mss``/``wscale``/``tsval``/``tsecr`` the option values (-1 when absent) and ``sack`` every
SACK edge in order, flattened ``(left, right, left, right, ...)``.

The checksum is the sum of ``hash(row)`` modulo 2**64: cheap, and the same in every process
run with the same ``PYTHONHASHSEED`` (the runner sets it).  Every path pays the same
per-packet cost for it (build a tuple, hash it, add).

A *path* is a function of no arguments that imports what it needs and returns the function
that makes rows from a file, so that imports stay outside the timed part.
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

Row = tuple[Any, ...]
Rows = Callable[[Path, int | None], Iterator[Any]]

ABSENT = -1
EOL = 0
MASK = (1 << 64) - 1
CHUNK = 1 << 20

# tshark's names for the row's fields, in the order of ``tshark -T fields -e ...``
TSHARK_FIELDS = (
    "vlan.id",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.hdr_len",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.option_kind",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
)
_LISTS = {"vlan.id", "tcp.option_kind", "tcp.options.sack_le", "tcp.options.sack_re"}
_TEXT = {"ip.src", "ip.dst", "ipv6.src", "ipv6.dst"}


@dataclass(frozen=True, slots=True)
class Digest:
    """How many packets a path decoded, the checksum of their rows, and the checksum of the
    first ``checkpoint`` rows (all of them when fewer)."""

    packets: int
    checksum: int
    prefix: int


def digest(rows: Iterable[Any], checkpoint: int = 0) -> Digest:
    """Fold rows into a :class:`Digest`."""
    it = iter(rows)
    count = total = 0
    for row in islice(it, checkpoint):
        count += 1
        total += hash(row)
    prefix = total
    for row in it:
        count += 1
        total += hash(row)
    return Digest(count, total & MASK, prefix & MASK)


def _upto_eol(kinds: tuple[int, ...]) -> tuple[int, ...]:
    return kinds[: kinds.index(EOL) + 1] if EOL in kinds else kinds


# --- headerkit --------------------------------------------------------------------------


def headerkit_path() -> Rows:
    """``headerkit.decode_capture``: one Packet per record, fields read from its layers."""
    import headerkit
    from headerkit import Vlan

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        for pkt in islice(headerkit.decode_capture(path), limit):
            ip = pkt.ip
            tag = pkt.layer(Vlan)
            vid = tag.vid if tag is not None else 0
            tcp = pkt.tcp
            if ip is not None and tcp is not None:
                kinds = []
                mss = ws = tsval = tsecr = ABSENT
                sack: tuple[int, ...] = ()
                for opt in tcp.options:
                    kind = opt.kind
                    kinds.append(kind)
                    if kind == 2:
                        mss = opt.value
                    elif kind == 3:
                        ws = opt.value
                    elif kind == 8:
                        tsval, tsecr = opt.value
                    elif kind == 5:
                        for edges in opt.value:
                            sack += edges
                yield (
                    vid, ip.src, ip.dst, 6, tcp.srcport, tcp.dstport, tcp.seq, tcp.ack,
                    tcp.data_offset, tcp.flags, tcp.window, tuple(kinds), mss, ws, tsval, tsecr,
                    sack,
                )  # fmt: skip
                continue
            udp = pkt.udp
            if ip is not None and udp is not None:
                yield (vid, ip.src, ip.dst, 17, udp.srcport, udp.dstport, udp.length)
            else:
                yield ()

    return rows


def headerkit_ports_path() -> Rows:
    """``headerkit.decode_capture`` read for ports and flags only: rows ``(sport, dport,
    flags)`` for TCP, ``(sport, dport)`` for UDP, ``()`` else."""
    import headerkit

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        for pkt in islice(headerkit.decode_capture(path), limit):
            tcp = pkt.tcp
            if tcp is not None:
                yield (tcp.srcport, tcp.dstport, tcp.flags)
                continue
            udp = pkt.udp
            yield (udp.srcport, udp.dstport) if udp is not None else ()

    return rows


def dpkt_ports_path() -> Rows:
    """dpkt read for ports and flags only (it parses every header all the same)."""
    import dpkt

    ethernet, tcp_class, udp_class = dpkt.ethernet.Ethernet, dpkt.tcp.TCP, dpkt.udp.UDP

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        with open(path, "rb") as f:
            for _, buf in islice(dpkt.pcap.Reader(f), limit):
                seg = getattr(ethernet(buf).data, "data", None)
                if isinstance(seg, tcp_class):
                    yield (seg.sport, seg.dport, seg._off_flags & 0xFFF)
                elif isinstance(seg, udp_class):
                    yield (seg.sport, seg.dport)
                else:
                    yield ()

    return rows


def record_walk_path() -> Rows:
    """``headerkit.captures.read_capture``: the records, not decoded (rows: their lengths)."""
    from headerkit.captures import read_capture

    def rows(path: Path, limit: int | None) -> Iterator[int]:
        for rec in islice(read_capture(path), limit):
            yield len(rec.data)

    return rows


# --- peers ------------------------------------------------------------------------------


def dpkt_path() -> Rows:
    """dpkt: ``pcap.Reader``, ``Ethernet(buf)``, options by ``tcp.parse_opts``."""
    import dpkt

    ethernet, ip4, tcp_class, udp_class = (
        dpkt.ethernet.Ethernet,
        dpkt.ip.IP,
        dpkt.tcp.TCP,
        dpkt.udp.UDP,
    )
    parse_opts = dpkt.tcp.parse_opts
    ntop, unpack = socket.inet_ntop, struct.unpack
    af4, af6 = socket.AF_INET, socket.AF_INET6

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        with open(path, "rb") as f:
            for _, buf in islice(dpkt.pcap.Reader(f), limit):
                eth = ethernet(buf)
                tags = getattr(eth, "vlan_tags", None)  # set on tagged frames only
                vid = tags[0].id if tags else 0
                ip = eth.data
                if isinstance(ip, bytes):
                    yield ()
                    continue
                family = af4 if isinstance(ip, ip4) else af6
                src, dst = ntop(family, ip.src), ntop(family, ip.dst)
                seg = ip.data
                if isinstance(seg, tcp_class):
                    kinds = []
                    mss = ws = tsval = tsecr = ABSENT
                    sack: tuple[int, ...] = ()
                    for kind, data in parse_opts(seg.opts):
                        kinds.append(kind)
                        if kind == EOL:
                            break
                        if kind == 2:
                            mss = unpack(">H", data)[0]
                        elif kind == 3:
                            ws = data[0]
                        elif kind == 8:
                            tsval, tsecr = unpack(">II", data)
                        elif kind == 5:
                            sack += unpack(f">{len(data) // 4}I", data)
                    yield (
                        vid, src, dst, 6, seg.sport, seg.dport, seg.seq, seg.ack, seg.off,
                        seg._off_flags & 0xFFF, seg.win, tuple(kinds), mss, ws, tsval, tsecr,
                        sack,
                    )  # fmt: skip
                elif isinstance(seg, udp_class):
                    yield (vid, src, dst, 17, seg.sport, seg.dport, seg.ulen)
                else:
                    yield ()

    return rows


def scapy_path() -> Rows:
    """scapy: ``PcapReader``, layers by ``getlayer``, options as scapy lists them."""
    from scapy.layers.inet import IP, TCP, UDP, TCPOptions
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Dot1Q
    from scapy.utils import PcapReader

    kind_of: dict[Any, int] = TCPOptions[1]

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        with PcapReader(str(path)) as reader:
            for pkt in islice(reader, limit):
                tag = pkt.getlayer(Dot1Q)
                vid = tag.vlan if tag is not None else 0
                ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
                seg = pkt.getlayer(TCP)
                if ip is not None and seg is not None:
                    kinds = []
                    mss = ws = tsval = tsecr = ABSENT
                    sack: tuple[int, ...] = ()
                    for name, value in seg.options:
                        kind = kind_of.get(name, name)
                        kinds.append(kind)
                        if kind == 2:
                            mss = value
                        elif kind == 3:
                            ws = value
                        elif kind == 8:
                            tsval, tsecr = value
                        elif kind == 5:
                            sack += value
                    yield (
                        vid, ip.src, ip.dst, 6, seg.sport, seg.dport, seg.seq, seg.ack,
                        seg.dataofs, seg.reserved << 9 | int(seg.flags), seg.window, tuple(kinds),
                        mss, ws, tsval, tsecr, sack,
                    )  # fmt: skip
                    continue
                dgram = pkt.getlayer(UDP)
                if ip is not None and dgram is not None:
                    yield (vid, ip.src, ip.dst, 17, dgram.sport, dgram.dport, dgram.len)
                else:
                    yield ()

    return rows


def tshark_command(path: Path, limit: int | None = None) -> list[str]:
    """tshark printing the row's fields for every packet (raw sequence numbers, no DNS)."""
    command = ["tshark", "-r", str(path), "-n", "-o", "tcp.relative_sequence_numbers:FALSE"]
    if limit is not None:
        command += ["-c", str(limit)]
    command += ["-T", "fields", "-E", "separator=/t", "-E", "aggregator=,"]
    for name in TSHARK_FIELDS:
        command += ["-e", name]
    return command


def tshark_path() -> Rows:
    """tshark ``-T fields`` in a child process, its lines read here."""

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        with subprocess.Popen(
            tshark_command(path, limit), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                yield named_row(tshark_values(line).get)
        if proc.returncode:
            raise RuntimeError(f"tshark exited with status {proc.returncode}")

    return rows


def tshark_values(line: bytes) -> dict[str, Any]:
    """One line of :func:`tshark_command`'s output as values under tshark's names."""
    values: dict[str, Any] = {}
    for name, text in zip(TSHARK_FIELDS, line.rstrip(b"\r\n").split(b"\t"), strict=True):
        if not text:
            continue
        if name in _LISTS:
            values[name] = [int(v) for v in text.split(b",")]
        elif name in _TEXT:
            values[name] = text.decode()
        else:
            values[name] = int(text, 0)  # tcp.flags is hex
    return values


def named_row(get: Callable[[str], Any]) -> Row:
    """The row from fields under tshark's names (``get`` returns None when absent): used
    for tshark's output, headerkit's JSON Lines and headerkit's tables."""
    vlan = get("vlan.id")
    vid = vlan[0] if vlan else 0
    src = get("ip.src") or get("ipv6.src")
    dst = get("ip.dst") or get("ipv6.dst")
    sport = get("tcp.srcport")
    if src is not None and sport is not None:
        kinds = _upto_eol(tuple(get("tcp.option_kind") or ()))
        sack: tuple[int, ...] = ()
        for edges in zip(
            get("tcp.options.sack_le") or (), get("tcp.options.sack_re") or (), strict=True
        ):
            sack += edges
        return (
            vid, src, dst, 6, sport, get("tcp.dstport"), get("tcp.seq_raw"), get("tcp.ack_raw"),
            get("tcp.hdr_len") // 4, get("tcp.flags"), get("tcp.window_size_value"), kinds,
            _or_absent(get("tcp.options.mss_val")), _or_absent(get("tcp.options.wscale.shift")),
            _or_absent(get("tcp.options.timestamp.tsval")),
            _or_absent(get("tcp.options.timestamp.tsecr")), sack,
        )  # fmt: skip
    uport = get("udp.srcport")
    if src is not None and uport is not None:
        return (vid, src, dst, 17, uport, get("udp.dstport"), get("udp.length"))
    return ()


def _or_absent(value: int | None) -> int:
    return ABSENT if value is None else value


# --- plain Python -----------------------------------------------------------------------


class PcapChunks:
    """A classic pcap file in 1 MiB buffers, for hand-written record loops.

    Iterating gives buffers; before asking for the next one, the loop sets :attr:`used` to
    the offset of the first record it could not finish, and the next buffer starts there.
    :attr:`record` unpacks a record header: ``(ts_sec, ts_frac, caplen, wirelen)``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.used = 0
        self.record: Callable[[bytes, int], tuple[int, ...]] = struct.Struct("<IIII").unpack_from

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            magic = f.read(24)[:4]
            if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
                self.record = struct.Struct(">IIII").unpack_from
            buf = b""
            while chunk := f.read(CHUNK):
                buf = buf[self.used :] + chunk
                self.used = 0
                yield buf


def python_walk_path() -> Rows:
    """A plain-Python pcap record walk: record headers only (rows: the record lengths)."""

    def rows(path: Path, limit: int | None) -> Iterator[int]:
        left = -1 if limit is None else limit
        chunks = PcapChunks(path)
        for buf in chunks:
            record, pos, end = chunks.record, 0, len(buf)
            while pos + 16 <= end and left:
                caplen = record(buf, pos)[2]
                if pos + 16 + caplen > end:
                    break
                yield caplen
                pos += 16 + caplen
                left -= 1
            chunks.used = pos

    return rows


def struct_path() -> Rows:
    """A hand-written ``struct.unpack_from`` decoder over 1 MiB buffers (Ethernet, one
    802.1Q tag, IPv4, IPv6 without extension headers, TCP with options, UDP)."""
    u16 = struct.Struct(">H").unpack_from
    u32x2 = struct.Struct(">II").unpack_from
    tcp_fixed = struct.Struct(">HHIIHH").unpack_from
    udp_fixed = struct.Struct(">HHH").unpack_from
    ntop, af4, af6 = socket.inet_ntop, socket.AF_INET, socket.AF_INET6

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        left = -1 if limit is None else limit
        chunks = PcapChunks(path)
        for buf in chunks:
            record, pos, end = chunks.record, 0, len(buf)
            while pos + 16 <= end and left:
                caplen = record(buf, pos)[2]
                at = pos + 16
                if at + caplen > end:
                    break
                pos = at + caplen
                left -= 1
                ethertype = u16(buf, at + 12)[0]
                at += 14
                vid = 0
                if ethertype == 0x8100:
                    vid = u16(buf, at)[0] & 0xFFF
                    ethertype = u16(buf, at + 2)[0]
                    at += 4
                if ethertype == 0x0800:
                    proto = buf[at + 9]
                    src = ntop(af4, buf[at + 12 : at + 16])
                    dst = ntop(af4, buf[at + 16 : at + 20])
                    at += (buf[at] & 0xF) * 4
                elif ethertype == 0x86DD:
                    proto = buf[at + 6]
                    src = ntop(af6, buf[at + 8 : at + 24])
                    dst = ntop(af6, buf[at + 24 : at + 40])
                    at += 40
                else:
                    yield ()
                    continue
                if proto == 6:
                    sport, dport, seq, ack, off_flags, window = tcp_fixed(buf, at)
                    offset = off_flags >> 12
                    kinds = []
                    mss = ws = tsval = tsecr = ABSENT
                    sack: tuple[int, ...] = ()
                    i, stop = at + 20, at + offset * 4
                    while i < stop:
                        kind = buf[i]
                        kinds.append(kind)
                        if kind == EOL:
                            break
                        if kind == 1:
                            i += 1
                            continue
                        length = buf[i + 1]
                        if kind == 2:
                            mss = u16(buf, i + 2)[0]
                        elif kind == 3:
                            ws = buf[i + 2]
                        elif kind == 8:
                            tsval, tsecr = u32x2(buf, i + 2)
                        elif kind == 5:
                            sack += struct.unpack_from(f">{(length - 2) // 4}I", buf, i + 2)
                        i += max(length, 2)
                    yield (
                        vid, src, dst, 6, sport, dport, seq, ack, offset, off_flags & 0xFFF,
                        window, tuple(kinds), mss, ws, tsval, tsecr, sack,
                    )  # fmt: skip
                elif proto == 17:
                    sport, dport, length = udp_fixed(buf, at)
                    yield (vid, src, dst, 17, sport, dport, length)
                else:
                    yield ()
            chunks.used = pos

    return rows


# --- headerkit's tables and command line ------------------------------------------------


def table_rows(table: Any) -> Iterator[Row]:
    """Rows from a ``read_table`` result: a pandas DataFrame or a ``pyarrow.Table``."""
    arrow = hasattr(table, "column_names")
    names = [n for n in TSHARK_FIELDS if n in (table.column_names if arrow else table.columns)]
    if arrow:
        columns = [table.column(n).to_pylist() for n in names]
    else:
        import pandas as pd

        def plain(value: Any) -> Any:  # NA to None, a numpy array or scalar to Python
            return value.tolist() if hasattr(value, "tolist") else None if value is pd.NA else value

        columns = [[plain(v) for v in table[n].tolist()] for n in names]
    for values in zip(*columns, strict=True):
        yield named_row(dict(zip(names, values, strict=True)).get)


def cli_command(path: Path) -> list[str]:
    """``headerkit decode --format jsonl FILE``."""
    return [sys.executable, "-m", "headerkit", "decode", "--format", "jsonl", "--no-progress",
            str(path)]  # fmt: skip


def cli_path() -> Rows:
    """The JSON Lines ``headerkit decode`` prints, read back (to check the CLI's output)."""

    def rows(path: Path, limit: int | None) -> Iterator[Row]:
        with subprocess.Popen(cli_command(path), stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            for line in islice(proc.stdout, limit):
                yield named_row(json.loads(line).get)
        if proc.returncode and limit is None:
            raise RuntimeError(f"headerkit decode exited with status {proc.returncode}")

    return rows


# every path by name (the columnar paths are timed differently: see worker.py)
PATHS: dict[str, Callable[[], Rows]] = {
    "headerkit": headerkit_path,
    "headerkit-ports": headerkit_ports_path,
    "dpkt": dpkt_path,
    "dpkt-ports": dpkt_ports_path,
    "scapy": scapy_path,
    "tshark": tshark_path,
    "struct": struct_path,
    "walk-headerkit": record_walk_path,
    "walk-python": python_walk_path,
    "cli-jsonl": cli_path,
}
