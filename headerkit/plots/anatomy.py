"""A header drawn as the RFC's 32-bit-row diagram, with this packet's values and bytes."""

from __future__ import annotations

from typing import Any

from headerkit.packet.decode import Packet
from headerkit.packet.layers import TCP, UDP, Layer
from headerkit.packet.summary import flags_text, option_text
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.tcp import FLAG_NAMES, TCP_LAYOUT
from headerkit.schemas.udp import UDP_LAYOUT

ROW_BITS = 32
_LABELS = {
    "srcport": "Source Port",
    "dstport": "Destination Port",
    "seq": "Sequence Number",
    "ack": "Acknowledgment Number",
    "data_offset": "Offset",
    "window": "Window",
    "checksum": "Checksum",
    "urgent_pointer": "Urgent Pointer",
    "length": "Length",
}


def _value(layer: Layer, name: str) -> str:
    value = getattr(layer, name)
    if isinstance(layer, TCP) and name == "flags":
        return f"0x{value:03x} {flags_text(layer)}"
    if name == "checksum":
        status = getattr(layer, "checksum_status", None)
        return f"0x{value:04x} ({status.name.lower()})" if status is not None else f"0x{value:04x}"
    if isinstance(layer, TCP) and name == "data_offset":
        return f"{value} ({value * 4} B)"
    return str(value)


def header_anatomy(pkt: Packet, layer: str = "tcp", ax: Any = None) -> Any:
    """Draw ``pkt``'s TCP or UDP header as the RFC's 32-bit rows (bits 0 to 31): each field
    with its value, the bytes of each row in hex, the TCP flags one cell per bit (the set
    ones filled) and the TCP options one row each (kind, length, value and their bytes).

    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    hdr: TCP | UDP | None = pkt.tcp if layer == "tcp" else pkt.udp
    if hdr is None or hdr.srcport is None:
        raise ValueError(f"the packet has no {layer.upper()} header to draw")
    layout: FixedLayout = TCP_LAYOUT if isinstance(hdr, TCP) else UDP_LAYOUT
    start = _header_offset(pkt, layout)
    header_len = hdr.header_length if isinstance(hdr, TCP) and hdr.header_length else 8
    raw = pkt.data[start : start + header_len]
    fixed_rows = layout.size // 4
    options = _option_rows(hdr, raw[layout.size :]) if isinstance(hdr, TCP) else []
    rows = fixed_rows + len(options)
    if ax is None:
        _, ax = plt.subplots(figsize=(13, 0.75 * rows + 1.4))
    for name, first, width in layout.bits:
        row, col = divmod(first, ROW_BITS)
        if isinstance(hdr, TCP) and name == "flags":
            _flag_cells(ax, hdr, row, col, width)
            continue
        _cell(ax, col, row, width, f"{_LABELS.get(name, name)}\n{_value(hdr, name)}")
    for row in range(fixed_rows):
        _bytes(ax, row, raw[row * 4 : row * 4 + 4])
    for index, (text, data) in enumerate(options):
        _cell(ax, 0, fixed_rows + index, ROW_BITS, text, fontsize=8)
        _bytes(ax, fixed_rows + index, data)
    ax.set_xlim(-0.2, ROW_BITS + 12)
    ax.set_ylim(-rows - 0.2, 0.15)
    ax.set_xticks([bit + 0.5 for bit in range(ROW_BITS)], [str(b) for b in range(ROW_BITS)])
    ax.tick_params(axis="x", labelsize=7, length=2)
    ax.spines["top"].set_bounds(0, ROW_BITS)
    ax.set_yticks([])
    ax.xaxis.tick_top()
    ax.set_title(f"{layer.upper()} header, {header_len} bytes (bits 0-31 of each row)", pad=18)
    for side in ("right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    return ax


def _cell(ax: Any, col: float, row: int, width: float, text: str, **style: Any) -> None:
    from matplotlib.patches import Rectangle

    fill = style.pop("fill", None)
    ax.add_patch(
        Rectangle(
            (col, -row - 1),
            width,
            1,
            fill=fill is not None,
            facecolor=fill or "none",
            edgecolor="black",
            linewidth=1.2,
        )
    )
    size = style.pop("fontsize", 8 if width >= 8 else 6)
    ax.text(col + width / 2, -row - 0.5, text, ha="center", va="center", fontsize=size, **style)


def _flag_cells(ax: Any, hdr: TCP, row: int, col: int, width: int) -> None:
    """One cell per bit of the 12-bit flags field, most significant first; set bits filled."""
    names = dict(FLAG_NAMES)
    for index in range(width):
        bit = 1 << (width - 1 - index)
        name = names.get(bit, "Rsv")
        on = bool((hdr.flags or 0) & bit)
        label = f"{name}\n{int(on)}"
        _cell(
            ax, col + index, row, 1, label, fontsize=5.5, fill="#f6c86b" if on else None, rotation=0
        )


def _option_rows(hdr: TCP, raw: bytes) -> list[tuple[str, bytes]]:
    """Each option's row text and bytes, in the order they sit after the fixed header; what
    follows the last one (padding) gets a row of its own."""
    rows: list[tuple[str, bytes]] = []
    at = 0
    for option in hdr.options:
        size = option.length if option.length is not None else 1
        data = raw[at : at + size]
        length = f", length {option.length}" if option.length is not None else ""
        value = f": {option_text(option)}" if option.length is not None else ""
        rows.append((f"Option kind {option.kind} ({option.label}){length}{value}", data))
        at += size
    if at < len(raw):
        rows.append((f"Padding, {len(raw) - at} bytes", raw[at:]))
    return rows


def _bytes(ax: Any, row: int, data: bytes) -> None:
    ax.text(ROW_BITS + 0.8, -row - 0.5, data.hex(" "), va="center", family="monospace", fontsize=9)


def _header_offset(pkt: Packet, layout: FixedLayout) -> int:
    """Where the transport header starts: before the payload by its length."""
    hdr = pkt.transport
    assert hdr is not None
    if pkt.payload_offset is not None:
        length = hdr.header_length if isinstance(hdr, TCP) and hdr.header_length else layout.size
        return pkt.payload_offset - length
    raise ValueError("the transport header was not fully decoded")
