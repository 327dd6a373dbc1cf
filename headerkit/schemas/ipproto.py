"""IP protocol numbers (IANA "Assigned Internet Protocol Numbers") that headerkit meets: the
ones it decodes (TCP, UDP, the tunnels) and the ones it names."""

from __future__ import annotations

ICMP = 1
IPV4_IN_IP = 4  # RFC 2003
TCP = 6
UDP = 17
IPV6_IN_IP = 41  # RFC 4213
GRE = 47
ESP = 50
AH = 51
ICMPV6 = 58

NAMES = {
    ICMP: "ICMP",
    IPV4_IN_IP: "IPv4",
    TCP: "TCP",
    UDP: "UDP",
    IPV6_IN_IP: "IPv6",
    GRE: "GRE",
    ESP: "ESP",
    AH: "AH",
    ICMPV6: "ICMPv6",
}
