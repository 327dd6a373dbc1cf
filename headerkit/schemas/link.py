"""Link-layer headers: Ethernet II, 802.1Q/802.1ad tags, Linux SLL and SLL2, BSD null/loopback."""

from __future__ import annotations

import construct as cs

from headerkit.schemas.layout import FixedLayout

# EtherTypes (IEEE registry) that headerkit follows
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100  # 802.1Q customer tag
ETHERTYPE_QINQ = 0x88A8  # 802.1ad service tag
ETHERTYPE_QINQ_OLD = 0x9100  # pre-standard stacked tag
VLAN_TPIDS = frozenset({ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD})

# Address families a BSD null/loopback header may carry for IPv4 and IPv6
AF_INET = 2
AF_INET6 = frozenset({10, 24, 28, 30})  # Linux, NetBSD/OpenBSD, FreeBSD, Darwin

ETHERNET = cs.Struct(
    "dst" / cs.Bytes(6),
    "src" / cs.Bytes(6),
    "type" / cs.Int16ub,
)

# What follows a TPID: the tag control information and the next EtherType.
VLAN_TAG = cs.Struct(
    "tci"
    / cs.BitStruct(
        "pcp" / cs.BitsInteger(3),
        "dei" / cs.Flag,
        "vid" / cs.BitsInteger(12),
    ),
    "type" / cs.Int16ub,
)

LINUX_SLL = cs.Struct(
    "packet_type" / cs.Int16ub,
    "arphrd_type" / cs.Int16ub,
    "addr_len" / cs.Int16ub,
    "addr" / cs.Bytes(8),
    "protocol" / cs.Int16ub,
)

LINUX_SLL2 = cs.Struct(
    "protocol" / cs.Int16ub,
    "reserved" / cs.Int16ub,
    "ifindex" / cs.Int32ub,
    "arphrd_type" / cs.Int16ub,
    "packet_type" / cs.Int8ub,
    "addr_len" / cs.Int8ub,
    "addr" / cs.Bytes(8),
)

# An MPLS label stack entry (RFC 3032); EtherType 0x8847 (unicast) or 0x8848 (multicast).
ETHERTYPE_MPLS = frozenset({0x8847, 0x8848})
MPLS = cs.Struct(
    "entry"
    / cs.BitStruct(
        "label" / cs.BitsInteger(20),
        "traffic_class" / cs.BitsInteger(3),
        "bottom_of_stack" / cs.Flag,
        "ttl" / cs.BitsInteger(8),
    ),
)

# DLT_NULL stores the family in the capturing host's byte order; DLT_LOOP always big-endian.
NULL_LE = cs.Struct("family" / cs.Int32ul)
NULL_BE = cs.Struct("family" / cs.Int32ub)

ETHERNET_LAYOUT = FixedLayout(ETHERNET)
VLAN_TAG_LAYOUT = FixedLayout(VLAN_TAG)
LINUX_SLL_LAYOUT = FixedLayout(LINUX_SLL)
LINUX_SLL2_LAYOUT = FixedLayout(LINUX_SLL2)
MPLS_LAYOUT = FixedLayout(MPLS)
NULL_LE_LAYOUT = FixedLayout(NULL_LE)
NULL_BE_LAYOUT = FixedLayout(NULL_BE)

# PPP (RFC 1661) in HDLC-like framing (RFC 1662): address 0xFF and control 0x03 may be
# present before the 16-bit protocol number.
PPP_IPV4 = 0x0021
PPP_IPV6 = 0x0057
PPP_PROTOCOL = cs.Struct("protocol" / cs.Int16ub)
PPP_ADDRESS_CONTROL = b"\xff\x03"

# PPPoE session stage (RFC 2516), EtherType 0x8864, followed by a PPP protocol number.
ETHERTYPE_PPPOE_SESSION = 0x8864
PPPOE = cs.Struct(
    "version_type" / cs.BitStruct("version" / cs.BitsInteger(4), "type" / cs.BitsInteger(4)),
    "code" / cs.Int8ub,
    "session_id" / cs.Int16ub,
    "length" / cs.Int16ub,
    "protocol" / cs.Int16ub,
)

# IEEE 802.2 LLC with a SNAP header: DSAP 0xAA, SSAP 0xAA, control 0x03, OUI, EtherType.
LLC_SNAP = cs.Struct(
    "dsap" / cs.Int8ub,
    "ssap" / cs.Int8ub,
    "control" / cs.Int8ub,
    "oui" / cs.Bytes(3),
    "type" / cs.Int16ub,
)
SNAP_SAP = 0xAA
MAX_802_3_LENGTH = 1500  # a "type" at or below this is an 802.3 length

# Linux NFLOG: a 4-byte header, then type-length-value records in host (little-endian)
# order, each padded to 4 bytes; NFULA_PAYLOAD carries the packet.
NFLOG_HEADER = cs.Struct("family" / cs.Int8ub, "version" / cs.Int8ub, "resource_id" / cs.Int16ub)
NFLOG_TLV = cs.Struct("length" / cs.Int16ul, "type" / cs.Int16ul)
NFULA_PAYLOAD = 9

# Apple PKTAP: a little-endian header whose first fields give its length and the link type
# of the frame that follows.
PKTAP_HEADER = cs.Struct("length" / cs.Int32ul, "type" / cs.Int32ul, "dlt" / cs.Int32ul)

# Juniper Ethernet: the magic "MGC", a flags byte and, when flag 0x80 is set, a 2-byte
# extension length; an Ethernet frame follows.
JUNIPER_MAGIC = b"MGC"
JUNIPER_HEADER = cs.Struct("magic" / cs.Bytes(3), "flags" / cs.Int8ub, "ext_length" / cs.Int16ub)
JUNIPER_FLAG_EXT = 0x80

# Cisco HDLC: address (0x0F unicast, 0x8F broadcast), control 0x00, then an EtherType;
# BSD/OS wrote it under the null link type too.
CHDLC = cs.Struct("address" / cs.Int8ub, "control" / cs.Int8ub, "protocol" / cs.Int16ub)
CHDLC_ADDRESSES = frozenset({0x0F, 0x8F})

# Solaris IPNET: a 24-byte header whose second byte is the address family.
IPNET = cs.Struct(
    "version" / cs.Int8ub,
    "family" / cs.Int8ub,
    "htype" / cs.Int16ub,
    "length" / cs.Int32ub,
    "ifindex" / cs.Int32ub,
    "grifindex" / cs.Int32ub,
    "zsrc" / cs.Int32ub,
    "zdst" / cs.Int32ub,
)
IPNET_FAMILIES = {2: ETHERTYPE_IPV4, 26: ETHERTYPE_IPV6}

PPP_LAYOUT = FixedLayout(PPP_PROTOCOL)
CHDLC_LAYOUT = FixedLayout(CHDLC)
IPNET_LAYOUT = FixedLayout(IPNET)
PPPOE_LAYOUT = FixedLayout(PPPOE)
LLC_SNAP_LAYOUT = FixedLayout(LLC_SNAP)
NFLOG_HEADER_LAYOUT = FixedLayout(NFLOG_HEADER)
NFLOG_TLV_LAYOUT = FixedLayout(NFLOG_TLV)
PKTAP_HEADER_LAYOUT = FixedLayout(PKTAP_HEADER)
JUNIPER_HEADER_LAYOUT = FixedLayout(JUNIPER_HEADER)
