"""Tunnels decoded down to the packet inside, as tshark decodes them (frames built by scapy)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from scapy.contrib.geneve import GENEVE
from scapy.contrib.gtp import GTP_U_Header
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import GRE, Ether
from scapy.layers.vxlan import VXLAN

from headerkit.captures import PcapWriter
from headerkit.captures.decoded import decode_capture
from headerkit.flows import FlowTable
from headerkit.packet.layers import Tunnel

INNER4 = IP(src="10.1.1.1", dst="10.2.2.2") / TCP(sport=1234, dport=80, flags="S") / b"hi"
INNER6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=1234, dport=80) / b"hi"
OUTER4 = Ether() / IP(src="192.0.2.1", dst="192.0.2.2")
OUTER6 = Ether() / IPv6(src="2001:db8:ff::1", dst="2001:db8:ff::2")
FRAMES = {
    "gre": OUTER4 / GRE() / INNER4,
    "gre key and sequence": OUTER4
    / GRE(key_present=1, key=1000, seqnum_present=1, sequence_number=5)
    / INNER4,
    "gre ethernet": OUTER4 / GRE(proto=0x6558) / Ether() / INNER4,
    "4in4": OUTER4 / INNER4,
    "6in4": OUTER4 / INNER6,
    "4in6": OUTER6 / INNER4,
    "6in6": OUTER6 / INNER6,
    "vxlan": OUTER4 / UDP(sport=50000, dport=4789) / VXLAN(vni=42) / Ether() / INNER4,
    "geneve": OUTER4 / UDP(sport=50000, dport=6081) / GENEVE(vni=7, proto=0x0800) / INNER4,
    "gtp-u": OUTER4 / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=99) / INNER4,
}
KEYS = {"gre key and sequence": 1000, "vxlan": 42, "geneve": 7, "gtp-u": 99}


def _tshark(path: Path) -> tuple[str, str]:
    """tshark's TCP source port and length: those of the packet inside."""
    command = ["tshark", "-n", "-r", str(path), "-T", "fields", "-e", "tcp.srcport"]
    out = subprocess.run([*command, "-e", "tcp.len"], capture_output=True, text=True, check=True)
    port, length = out.stdout.rstrip("\n").split("\t")
    return port, length


@pytest.mark.parametrize("name", FRAMES)
def test_the_packet_inside_is_decoded_as_tshark_decodes_it(name: str, tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    path = tmp_path / f"{name.replace(' ', '-')}.pcap"
    with PcapWriter(path, 1) as writer:
        writer.write(bytes(FRAMES[name]), timestamp_ns=0)
    (pkt,) = list(decode_capture(path))
    assert pkt.tcp is not None and pkt.ip is not None
    inner = pkt.transport_ip
    assert inner is not None and inner is not pkt.ip  # the outer IP stays pkt.ip
    port, length = _tshark(path)
    assert (str(pkt.tcp.srcport), str(pkt.tcp.payload_length)) == (port, length)
    assert inner.src in ("10.1.1.1", "2001:db8::1")
    tunnel = pkt.layer(Tunnel)
    if name in KEYS:
        assert tunnel is not None and tunnel.key == KEYS[name]
    seen = FlowTable().add_all(pkt)
    assert [s.flow.protocol for s in seen] == (
        ["udp", "tcp"] if tunnel and tunnel.kind != "gre" else ["tcp"]
    )
    assert str(seen[-1].flow.a) == f"{inner.src}:1234"


def test_a_tunnel_header_cut_short_is_reported(tmp_path: Path) -> None:
    frame = bytes(OUTER4 / GRE(key_present=1, key=1) / INNER4)
    path = tmp_path / "cut.pcap"
    with PcapWriter(path, 1, snaplen=14 + 20 + 6) as writer:
        writer.write(frame[:40], timestamp_ns=0, wirelen=len(frame))
    (pkt,) = list(decode_capture(path))
    assert pkt.tcp is None and pkt.short
    assert "gre" in str(pkt.problems[0])


def test_an_empty_datagram_to_a_tunnel_port_is_plain_udp() -> None:
    """Found by the scapy oracle's hypothesis run: an empty UDP datagram to GTP-U's port was
    decoded as a GTP header cut short (a BoundsError when strict); it carries none."""
    from headerkit import craft
    from headerkit.packet.decode import decode as decode_frame

    frame = craft.udp(sport=1, dport=2152, payload=b"").data
    pkt = decode_frame(frame, 101, strict=True)
    assert pkt.udp is not None and pkt.udp.payload_length == 0
    assert not pkt.problems
