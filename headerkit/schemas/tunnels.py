"""Tunnel headers that carry IP or Ethernet inside IP or UDP: GRE (RFC 2784, RFC 2890, and
PPTP's enhanced GRE, RFC 2637), IP in IP (RFC 2003, RFC 4213), VXLAN (RFC 7348), Geneve
(RFC 8926) and GTP-U (3GPP TS 29.281)."""

from __future__ import annotations

import construct as cs

from headerkit.schemas.layout import FixedLayout

# GRE: flags and version, then the protocol type (an EtherType); optional fields follow
# in this order when their flag is set: checksum and reserved (4 bytes), key (4), sequence
# number (4); version 1 (PPTP) carries a payload length and call id as its key, and an
# acknowledgment number (4) last when flag A is set.
GRE = cs.Struct("flags_version" / cs.Int16ub, "protocol" / cs.Int16ub)
GRE_CHECKSUM = 0x8000
GRE_ROUTING = 0x4000  # RFC 1701: with it, the checksum and offset field is there too
GRE_KEY = 0x2000
GRE_SEQUENCE = 0x1000
GRE_ACK = 0x0080  # version 1
GRE_VERSION = 0x0007
ETHERTYPE_TRANSPARENT_ETHERNET = 0x6558  # Ethernet frames inside (GRE, Geneve)
ETHERTYPE_PPP = 0x880B  # PPP frames inside (PPTP's GRE)

# VXLAN on UDP port 4789: flags (I = a valid VNI), the VNI, then an Ethernet frame.
VXLAN_PORT = 4789
VXLAN = cs.Struct(
    "flags" / cs.Int8ub, "reserved" / cs.Bytes(3), "vni" / cs.Bytes(3), "tail" / cs.Int8ub
)

# Geneve on UDP port 6081: version and options length (in 4-byte words), flags, protocol
# type (an EtherType), the VNI; the options follow.
GENEVE_PORT = 6081
GENEVE = cs.Struct(
    "version_optlen" / cs.Int8ub,
    "flags" / cs.Int8ub,
    "protocol" / cs.Int16ub,
    "vni" / cs.Bytes(3),
    "reserved" / cs.Int8ub,
)

# GTP-U on UDP port 2152: flags (version, PT, E, S, PN), message type (255: a G-PDU, user
# data), length, TEID; with E, S or PN set, 4 more bytes (sequence number, N-PDU number,
# next extension type), then extension headers, each a length in 4-byte words first and the
# next type last.
GTPU_PORT = 2152
GTPU = cs.Struct(
    "flags" / cs.Int8ub, "type" / cs.Int8ub, "length" / cs.Int16ub, "teid" / cs.Int32ub
)
GTPU_OPTIONAL = 0x07  # E, S, PN
GTPU_EXTENSION = 0x04
GTPU_G_PDU = 0xFF

GRE_LAYOUT = FixedLayout(GRE)
VXLAN_LAYOUT = FixedLayout(VXLAN)
GENEVE_LAYOUT = FixedLayout(GENEVE)
GTPU_LAYOUT = FixedLayout(GTPU)
