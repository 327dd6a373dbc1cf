"""Display filters in tshark's syntax, over the fields headerkit has.

``compile_filter("tcp.port == 80 and tcp.len > 0")`` gives a :class:`Filter`: ``matches``
tests one packet's record (:func:`packet_record`), ``mask`` a whole table at once.  See
:mod:`headerkit.tables.filter.syntax` for what the syntax covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from headerkit.errors import FilterError
from headerkit.packet.decode import Packet
from headerkit.packet.layers import TCP, UDP, IPv4, IPv6
from headerkit.tables.fields import row
from headerkit.tables.filter.checked import Checked, check
from headerkit.tables.filter.fields import FLOW_FIELDS, PAYLOADS
from headerkit.tables.filter.records import evaluate


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    tree: Checked
    fields: frozenset[str]  # the fields it reads

    @property
    def needs_flows(self) -> bool:
        """It reads a field only flow tracking gives (``tcp.stream``, ``tcp.analysis.*``)."""
        return bool(self.fields & FLOW_FIELDS)

    @property
    def needs_payload(self) -> bool:
        """It reads bytes no table column holds (``frame``, ``tcp.payload``...)."""
        return bool(self.fields & set(PAYLOADS))

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether one packet's record (:func:`packet_record`) passes."""
        return evaluate(self.tree, record)

    def mask(self, frame: Any) -> Any:
        """A boolean Series: which rows of a table (tshark's column names) pass."""
        from headerkit.tables.filter.frames import mask

        if self.needs_payload:
            used = ", ".join(sorted(self.fields & set(PAYLOADS)))
            raise FilterError(self.text, 1, f"{used}: bytes that are no table column")

        return mask(self.tree, frame)


def compile_filter(text: str) -> Filter:
    """The filter ``text`` says; :class:`~headerkit.errors.FilterError` names the column
    where it goes wrong."""
    tree, fields = check(text)
    return Filter(text, tree, fields)


def packet_record(
    pkt: Packet, flow_fields: Mapping[str, Any] | None = None, payloads: bool = True
) -> dict[str, Any]:
    """What a filter sees of one packet: its table row, its flow fields and its bytes."""
    record = row(pkt)
    _inner_addresses(pkt, record)
    if flow_fields:
        record.update(flow_fields)
    if payloads:
        record["frame"] = pkt.data
        transport = pkt.tcp or pkt.udp
        if transport is not None and pkt.payload_offset is not None:
            data = pkt.data[pkt.payload_offset :]
            record["tcp.payload" if pkt.tcp is not None else "udp.payload"] = data
            record["data"] = data
    return record


def _inner_addresses(pkt: Packet, record: dict[str, Any]) -> None:
    """Every IP header's addresses and every transport header's ports, not only the
    outermost's: inside a tunnel tshark's ``ip.addr`` and ``udp.port`` match the inner ones
    too."""
    for kind, prefix, ends in (
        (IPv4, "ip", ("src", "dst")),
        (IPv6, "ipv6", ("src", "dst")),
        (TCP, "tcp", ("srcport", "dstport")),
        (UDP, "udp", ("srcport", "dstport")),
    ):
        layers = [x for x in pkt.layers if isinstance(x, kind)]
        if len(layers) > 1:
            for end in ends:
                found = [getattr(x, end) for x in layers if getattr(x, end) is not None]
                record[f"{prefix}.{end}"] = found


def select(packets: Iterable[Packet], chosen: Filter) -> Iterator[Packet]:
    """The packets ``chosen`` selects; flow fields, when it reads them, come from tracking
    every packet first, as tshark's do."""
    if chosen.needs_flows:
        from headerkit.flows import annotate

        pairs: Iterable[tuple[Packet, Mapping[str, Any]]] = annotate(packets)
    else:
        pairs = ((pkt, {}) for pkt in packets)
    payloads = chosen.needs_payload
    for pkt, extra in pairs:
        if chosen.matches(packet_record(pkt, extra, payloads)):
            yield pkt


__all__ = ["Filter", "compile_filter", "packet_record", "select"]
