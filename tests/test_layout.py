"""The fast readers derived from the schemas give exactly what construct's parse gives."""

from __future__ import annotations

import construct as cs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headerkit.errors import BuildError
from headerkit.schemas import ipv4, ipv6, link, tcp, udp
from headerkit.schemas.layout import FixedLayout

LAYOUTS = {
    "ethernet": link.ETHERNET_LAYOUT,
    "vlan": link.VLAN_TAG_LAYOUT,
    "sll": link.LINUX_SLL_LAYOUT,
    "sll2": link.LINUX_SLL2_LAYOUT,
    "null_le": link.NULL_LE_LAYOUT,
    "null_be": link.NULL_BE_LAYOUT,
    "mpls": link.MPLS_LAYOUT,
    "pppoe": link.PPPOE_LAYOUT,
    "llc": link.LLC_SNAP_LAYOUT,
    "nflog_tlv": link.NFLOG_TLV_LAYOUT,
    "pktap": link.PKTAP_HEADER_LAYOUT,
    "juniper": link.JUNIPER_HEADER_LAYOUT,
    "ipv4": ipv4.IPV4_LAYOUT,
    "ipv6": ipv6.IPV6_LAYOUT,
    "ipv6_ext": ipv6.GENERIC_EXTENSION_LAYOUT,
    "ipv6_frag": ipv6.FRAGMENT_LAYOUT,
    "ipv6_ah": ipv6.AUTHENTICATION_LAYOUT,
    "tcp": tcp.TCP_LAYOUT,
    "udp": udp.UDP_LAYOUT,
}


def _schema_values(layout: FixedLayout, data: bytes) -> dict[str, object]:
    """construct's own parse of the fixed part, flattened."""
    fixed = cs.Struct(*[s for s in layout.schema.subcons if s.name in layout.fields])
    return layout.flatten(fixed.parse(data))


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@given(data=st.data())
def test_fast_reader_equals_schema(name: str, data: st.DataObject) -> None:
    layout = LAYOUTS[name]
    raw = data.draw(st.binary(min_size=layout.size, max_size=layout.size + 8))
    fast = dict(zip(layout.names, layout.unpack(raw, 0), strict=True))
    assert fast == _schema_values(layout, raw[: layout.size])


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@given(data=st.data())
def test_partial_reader_keeps_only_fields_that_fit(name: str, data: st.DataObject) -> None:
    layout = LAYOUTS[name]
    raw = data.draw(st.binary(min_size=layout.size, max_size=layout.size))
    cut = data.draw(st.integers(0, layout.size))
    partial = layout.unpack_partial(raw[:cut], 0)
    full = _schema_values(layout, raw)
    assert partial == {k: full[k] for k in partial}
    fitting = {n for n, end in zip(layout.names, layout.ends, strict=True) if end <= cut}
    assert set(partial) == fitting


def test_tcp_layout_is_twenty_bytes_with_twelve_flag_bits() -> None:
    assert tcp.TCP_LAYOUT.size == 20
    assert tcp.TCP_LAYOUT.groups == {"offset_flags": ["data_offset", "flags"]}
    values = dict(
        zip(
            tcp.TCP_LAYOUT.names,
            tcp.TCP_LAYOUT.unpack(bytes(12) + b"\xaf\xff" + bytes(6), 0),
            strict=True,
        )
    )
    assert values["data_offset"] == 10 and values["flags"] == 0xFFF


def test_layout_rejects_signed_bit_fields() -> None:
    schema = cs.Struct("x" / cs.BitStruct("a" / cs.BitsInteger(8, signed=True)))
    with pytest.raises(TypeError):
        FixedLayout(schema)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_bit_positions_tile_the_header(name: str) -> None:
    """Every bit of the fixed part belongs to exactly one field, in wire order."""
    layout = LAYOUTS[name]
    at = 0
    for _, first, width in layout.bits:
        assert first == at and width > 0
        at += width
    assert at == layout.size * 8


BUILT = {
    "tcp": (tcp.TCP_HEADER, tcp.TCP_LAYOUT, True),
    "ipv4": (ipv4.IPV4_HEADER, ipv4.IPV4_LAYOUT, True),
    "udp": (udp.UDP_HEADER, udp.UDP_LAYOUT, False),
    "ipv6": (ipv6.IPV6_HEADER, ipv6.IPV6_LAYOUT, False),
}


@pytest.mark.parametrize("name", sorted(BUILT))
@given(data=st.data())
def test_fast_packer_equals_schema_build(name: str, data: st.DataObject) -> None:
    """header_bytes (the layout's packer, defaults from the schema) == schema.build."""
    from headerkit.packet.build import header_bytes

    schema, layout, has_options = BUILT[name]
    fields: dict[str, object] = {}
    for leaf, _, width in layout.bits:
        value = data.draw(st.integers(0, (1 << width) - 1))
        if leaf in ("src", "dst"):
            value = data.draw(st.binary(min_size=width // 8, max_size=width // 8))
        defaulted = leaf in layout.defaults and data.draw(st.booleans())
        fields[leaf] = None if defaulted else value
    options = bytes(4 * data.draw(st.integers(0, 10))) if has_options else None
    plen = data.draw(st.integers(0, 1400))
    nested = layout.nest(fields)
    if options is not None:
        nested["options"] = options
    try:
        expected = schema.build(nested, payload_length=plen)
    except cs.ConstructError:
        with pytest.raises((cs.ConstructError, BuildError)):
            header_bytes(name, schema, layout, fields, options, plen)
        return
    assert header_bytes(name, schema, layout, fields, options, plen) == expected


def test_packer_builds_without_the_schema_when_values_fit() -> None:
    context = cs.Container(options=b"", _params=cs.Container(payload_length=0))
    context._ = context
    values = dict(
        zip(tcp.TCP_LAYOUT.names, tcp.TCP_LAYOUT.unpack(bytes(range(20)), 0), strict=True)
    )
    assert tcp.TCP_LAYOUT.pack(values, context) == bytes(range(20))
    assert tcp.TCP_LAYOUT.pack(values | {"data_offset": 16}, context) is None  # out of range
