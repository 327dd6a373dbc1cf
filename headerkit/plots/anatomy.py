"""A header drawn as the RFC's 32-bit-row diagram, with this packet's values and bytes."""

from __future__ import annotations

from typing import Any

from headerkit.packet.decode import Packet
from headerkit.packet.layers import TCP, UDP, Layer
from headerkit.packet.summary import flags_text, option_text
from headerkit.schemas.layout import FixedLayout
from headerkit.schemas.tcp import TCP_LAYOUT
from headerkit.schemas.udp import UDP_LAYOUT

ROW_BITS = 32
_LABELS = {
    "srcport": "Source Port",
    "dstport": "Destination Port",
    "seq": "Sequence Number",
    "ack": "Acknowledgment Number",
    "data_offset": "Offset",
    "flags": "Rsrvd + Flags",
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
    """Draw ``pkt``'s TCP or UDP header as 32-bit rows: field, value and the bytes in hex.

    Returns the matplotlib Axes.  Options (TCP) take the rows after the fixed 20 bytes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    hdr: TCP | UDP | None = pkt.tcp if layer == "tcp" else pkt.udp
    if hdr is None or hdr.srcport is None:
        raise ValueError(f"the packet has no {layer.upper()} header to draw")
    layout: FixedLayout = TCP_LAYOUT if isinstance(hdr, TCP) else UDP_LAYOUT
    start = _header_offset(pkt, layout)
    header_len = hdr.header_length if isinstance(hdr, TCP) and hdr.header_length else 8
    raw = pkt.data[start : start + header_len]
    rows = max(1, (len(raw) + 3) // 4)
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 0.7 * rows + 1.2))
    for name, first, width in layout.bits:
        row, col = divmod(first, ROW_BITS)
        ax.add_patch(Rectangle((col, -row - 1), width, 1, fill=False, linewidth=1.2))
        ax.text(
            col + width / 2,
            -row - 0.5,
            f"{_LABELS.get(name, name)}\n{_value(hdr, name)}",
            ha="center",
            va="center",
            fontsize=8 if width >= 8 else 6,
        )
    if isinstance(hdr, TCP) and header_len > 20:
        option_rows = (header_len - 20) // 4
        ax.add_patch(
            Rectangle((0, -5 - option_rows), ROW_BITS, option_rows, fill=False, linewidth=1.2)
        )
        text = ", ".join(option_text(o) for o in hdr.options) or "(no options)"
        if hdr.padding:
            text += f"  + {len(hdr.padding)} bytes padding"
        ax.text(
            ROW_BITS / 2,
            -5 - option_rows / 2,
            f"Options\n{text}",
            ha="center",
            va="center",
            fontsize=8,
        )
    for row in range(rows):
        ax.text(
            ROW_BITS + 0.8,
            -row - 0.5,
            raw[row * 4 : row * 4 + 4].hex(" "),
            va="center",
            family="monospace",
            fontsize=9,
        )
    ax.set_xlim(0, ROW_BITS + 8)
    ax.set_ylim(-rows - 0.2, 0.8)
    ax.set_xticks(range(0, ROW_BITS + 1, 8))
    ax.set_yticks([])
    ax.xaxis.tick_top()
    ax.set_title(f"{layer.upper()} header, {header_len} bytes", pad=18)
    for side in ("right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    return ax


def _header_offset(pkt: Packet, layout: FixedLayout) -> int:
    """Where the transport header starts: before the payload by its length."""
    hdr = pkt.transport
    assert hdr is not None
    if pkt.payload_offset is not None:
        length = hdr.header_length if isinstance(hdr, TCP) and hdr.header_length else layout.size
        return pkt.payload_offset - length
    raise ValueError("the transport header was not fully decoded")
