"""Port numbers: the services the lessons name, and the three IANA ranges (RFC 6335).

* 0-1023 are the system (well-known) ports, assigned by IANA to services: a server listens
  on one so that clients know where to find it.
* 1024-49151 are the user (registered) ports.
* 49152-65535 are the dynamic (private, ephemeral) ports, which IANA suggests an operating
  system picks from for a client's side of a connection.  Linux picks from its own range,
  ``net.ipv4.ip_local_port_range``, by default 32768-60999.
"""

from __future__ import annotations

from typing import Literal

SERVICES: dict[int, str] = {
    20: "FTP data",
    21: "FTP",
    22: "SSH",
    23: "Telnet",
    25: "SMTP",
    53: "DNS",
    67: "DHCP server",
    68: "DHCP client",
    69: "TFTP",
    80: "HTTP",
    110: "POP3",
    123: "NTP",
    137: "NetBIOS name",
    143: "IMAP",
    161: "SNMP",
    162: "SNMP trap",
    179: "BGP",
    389: "LDAP",
    443: "HTTPS",
    445: "SMB",
    465: "SMTPS",
    500: "IKE",
    514: "syslog",
    587: "mail submission",
    636: "LDAPS",
    853: "DNS over TLS",
    993: "IMAPS",
    995: "POP3S",
    1883: "MQTT",
    3306: "MySQL",
    3389: "RDP",
    4789: "VXLAN",
    5060: "SIP",
    5353: "mDNS",
    5432: "PostgreSQL",
    6379: "Redis",
    8080: "HTTP alternate",
    8443: "HTTPS alternate",
}
"""Services by their IANA-assigned port (the same number for TCP and UDP)."""

WELL_KNOWN = range(0, 1024)
REGISTERED = range(1024, 49152)
DYNAMIC = range(49152, 65536)
LINUX_EPHEMERAL = range(32768, 61000)

Kind = Literal["well-known", "registered", "ephemeral"]


def kind(port: int) -> Kind:
    """Which IANA range ``port`` is in."""
    if port in WELL_KNOWN:
        return "well-known"
    return "registered" if port in REGISTERED else "ephemeral"


def describe(port: int) -> str:
    """``port`` with its service and range: ``53 (DNS, well-known)``, ``51234 (ephemeral)``,
    ``40000 (registered; in Linux's ephemeral range)``."""
    words = [w for w in (SERVICES.get(port), kind(port)) if w]
    text = f"{port} ({', '.join(words)}"
    if port in LINUX_EPHEMERAL and port not in DYNAMIC:
        text += "; in Linux's ephemeral range"
    return text + ")"
