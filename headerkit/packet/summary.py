"""Text views of a decoded packet: a one-line summary and a field tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from headerkit import ports
from headerkit.packet.decode import OFFLOAD, Packet
from headerkit.packet.layers import TCP, UDP, IPv4, IPv6, Layer, TcpOption
from headerkit.schemas import ipproto
from headerkit.schemas.checksum import ChecksumStatus
from headerkit.schemas.tcp_options import OPTION_KINDS, option_name

Labels = Callable[[str, str], str | None]
_IP_FLAGS = ((0b100, "RB"), (0b010, "DF"), (0b001, "MF"))


def option_text(opt: TcpOption) -> str:
    """An option in tcpdump's short form: ``mss 1460``, ``wscale 7``, ``TS val 1 ecr 0``."""
    row = OPTION_KINDS.get(opt.kind)
    if row is not None:
        return row.label(opt.value)
    v = opt.value
    name = opt.label.lower()
    return f"{name} {bytes(v).hex()}" if v else name


def flags_text(seg: TCP) -> str:
    return "[" + ", ".join(seg.flag_names) + "]" if seg.flag_names else "[<none>]"


def _endpoint(addr: str | None, port: int | None, v6: bool) -> str:
    a = addr or "?"
    if port is None:
        return a
    service = f" ({ports.SERVICES[port]})" if port in ports.SERVICES else ""
    return f"[{a}]:{port}{service}" if v6 else f"{a}:{port}{service}"


def summary_line(
    pkt: Packet, t0_ns: int | None = None, relative: tuple[int, int] | None = None
) -> str:
    """One line per packet, in the spirit of tshark's summary; ``relative`` gives the
    sequence and acknowledgment numbers to show instead of the raw ones."""
    num = f"{pkt.number:>6}" if pkt.number is not None else "     -"
    when = ""
    if pkt.timestamp_ns is not None:
        when = f"{(pkt.timestamp_ns - (t0_ns or pkt.timestamp_ns)) / 1e9:12.6f} "
    ip = pkt.transport_ip  # inside a tunnel, the inner addresses, as tshark shows them
    seg = pkt.transport
    v6 = isinstance(ip, IPv6)
    src_port = seg.srcport if seg else None
    dst_port = seg.dstport if seg else None
    if ip is not None:
        where = f"{_endpoint(ip.src, src_port, v6)} → {_endpoint(ip.dst, dst_port, v6)}"
    else:
        where = pkt.layers[0].name if pkt.layers else "?"
    parts = [f"{num} {when}{where}"]
    if isinstance(seg, TCP):
        parts.append(f"TCP {flags_text(seg)}")
        if seg.seq is not None:
            seq, ack = relative if relative is not None else (seg.seq, seg.ack)
            parts.append(f"seq={seq} ack={ack} win={seg.window}")
        if seg.payload_length is not None:
            parts.append(f"len={seg.payload_length}")
        if seg.options:
            parts.append("<" + ",".join(option_text(o) for o in seg.options) + ">")
    elif isinstance(seg, UDP):
        parts.append(f"UDP len={seg.payload_length if seg.payload_length is not None else '?'}")
    elif ip is not None:
        proto = ip.protocol if isinstance(ip, IPv4) else ip.next_header
        parts.append(ipproto.NAMES.get(proto or -1, f"proto {proto}"))
    marks = _marks(pkt)
    if marks:
        parts.append(marks)
    return " ".join(parts)


def _marks(pkt: Packet) -> str:
    marks = []
    offloaded = any(OFFLOAD in n for n in pkt.notes)
    for layer in pkt.layers:
        status = getattr(layer, "checksum_status", None)
        if status is ChecksumStatus.BAD:
            partial = offloaded and layer.name in ("tcp", "udp")
            marks.append(
                "[partial checksum: offload]" if partial else f"[bad {layer.name} checksum]"
            )
        elif status is ChecksumStatus.ILLEGAL:
            marks.append(f"[illegal {layer.name} checksum 0]")
    if pkt.malformed:
        marks.append("[MALFORMED]")
    elif pkt.short:
        marks.append("[truncated]")
    if pkt.problems:
        marks.append("; ".join(str(p) for p in pkt.problems))
    marks.extend(f"({n})" for n in pkt.notes if OFFLOAD not in n)
    return " ".join(marks)


def field_tree(pkt: Packet, labels: Labels | None = None) -> str:
    """Every header field with its value and meaning, a block per layer (like tshark -V);
    ``labels(layer, attribute)`` names a field's output name (the field registry's)."""
    lines = [
        f"Frame {pkt.number if pkt.number is not None else '-'}: {pkt.wirelen} bytes on wire, "
        f"{len(pkt.data)} bytes captured"
    ]
    for layer in pkt.layers:
        lines.append(_title(layer))
        lines.extend(f"    {line}" for line in _layer_lines(layer, labels))
    for problem in pkt.problems:
        kind = "malformed" if problem.malformed else type(problem).__name__
        lines.append(f"[{kind}] {problem}")
    lines.extend(f"[note] {n}" for n in pkt.notes)
    return "\n".join(lines)


def _title(layer: Layer) -> str:
    names = {
        "eth": "Ethernet II",
        "vlan": "802.1Q/802.1ad tag",
        "sll": "Linux cooked capture",
        "null": "Null/Loopback",
        "ip": "Internet Protocol version 4",
        "ipv6": "Internet Protocol version 6",
        "tcp": "Transmission Control Protocol",
        "udp": "User Datagram Protocol",
    }
    return names.get(layer.name, type(layer).__name__)


def _layer_lines(layer: Layer, labels: Labels | None) -> Iterator[str]:
    for name, value in layer.fields().items():
        if value is None or name == "checksum_status":
            continue
        if isinstance(layer, TCP) and name == "options":
            if value:
                yield "options:"
                yield from (f"    {_option_line(o)}" for o in value)
            continue
        if isinstance(layer, IPv6) and name == "extensions":
            yield from (f"extension header: {e!r}" for e in value)
            continue
        if name in ("options", "padding", "data") and not value:
            continue
        tshark = labels(layer.name, name) if labels is not None else None
        yield f"{name}: {_meaning(layer, name, value)}" + (f"  [{tshark}]" if tshark else "")


def _option_line(opt: TcpOption) -> str:
    length = f" (length {opt.length})" if opt.length is not None else ""
    return f"{option_name(opt.kind)}{length}: {option_text(opt)}"


def _meaning(layer: Layer, name: str, value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if name == "checksum" and isinstance(layer, TCP | UDP | IPv4):
        return f"0x{value:04x} [{layer.checksum_status.name.lower()}]"
    if name in ("srcport", "dstport") and isinstance(value, int):
        return ports.describe(value)
    if isinstance(layer, TCP):
        if name == "flags":
            return f"0x{value:03x} {flags_text(layer)}"
        if name == "data_offset":
            return f"{value} ({value * 4} bytes)"
    if isinstance(layer, IPv4):
        if name == "ihl":
            return f"{value} ({value * 4} bytes)"
        if name == "flags":
            set_flags = [n for bit, n in _IP_FLAGS if value & bit]
            return f"0x{value:x} [{', '.join(set_flags)}]" if set_flags else f"0x{value:x}"
        if name == "frag_offset":
            return f"{value} ({value * 8} bytes)"
        if name == "protocol":
            return f"{value} ({ipproto.NAMES.get(value, 'unknown')})"
    if isinstance(layer, IPv6) and name == "next_header":
        return f"{value} ({ipproto.NAMES.get(value, 'extension or other')})"
    if name in ("type", "protocol") and isinstance(value, int):
        return f"0x{value:04x}"
    return str(value)
