"""A second realistic mix, to check the speed ratios are not tuned to the main one.

What the main mix (``generate.py``) lacks and real captures have: Ethernet padding on short
frames (a bare ACK is 54 bytes, the wire's minimum frame 60), IPv4 options on some flows
(Router Alert, a record-route), TCP Fast Open cookies and MPTCP options on SYNs, option lists
padded with EOL, UDP without a checksum (0 over IPv4), DNS queries and answers, and QUIC
long- and short-header packets on UDP 443.  The mix: 55 % IPv4/TCP, 10 % IPv6/TCP, 25 %
IPv4/UDP, 10 % IPv6/UDP, 5 % VLAN-tagged.  Frames go through headerkit's own builders, as in
the main mix; the pool and the record writer are ``generate.py``'s.

Run: ``python benchmarks/generate_other.py --packets 1000000 [--seed 1] [--out FILE]``
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import generate
from headerkit import Ethernet, TcpOption, Vlan, build, craft
from headerkit.schemas import tcp as t

MIX = ((4, "tcp", 0.55), (6, "tcp", 0.10), (4, "udp", 0.25), (6, "udp", 0.10))
VLAN_SHARE = 0.05
MIN_FRAME = 60  # Ethernet's minimum frame (without the FCS): shorter ones are padded
IP_OPTIONS = (
    b"\x94\x04\x00\x00",  # Router Alert (RFC 2113)
    b"\x07\x07\x04" + bytes(4) + b"\x00",  # Record Route with room for one hop, then EOL
)
IP_OPTION_SHARE = 0.2
NOP, EOL = TcpOption(t.NOP), TcpOption(t.EOL)


def _tfo(rng: random.Random) -> TcpOption:
    return TcpOption(t.FAST_OPEN, None, rng.randbytes(rng.choice((0, 8, 8, 16))))


def _mptcp(rng: random.Random) -> TcpOption:
    # MP_CAPABLE (subtype 0), version 1, with the sender's 64-bit key
    return TcpOption(t.MPTCP, None, (0, 1, b"\x81" + rng.randbytes(8)))


def _syn_options(rng: random.Random) -> list[TcpOption]:
    base = [generate._mss(rng), TcpOption(t.SACK_PERMITTED, None, None), generate._ts(rng)]
    base += [NOP, generate._ws(rng)]
    extra = rng.choice(("tfo", "mptcp", "eol", "plain"))
    if extra == "tfo":
        return [*base, _tfo(rng)]
    if extra == "mptcp":
        return [*base, _mptcp(rng)]
    if extra == "eol":
        return [generate._mss(rng), NOP, generate._ws(rng), EOL]
    return base


def _tcp(rng: random.Random, version: int, hosts: generate.Hosts) -> bytes:
    clients, servers = hosts[version]
    client, server = rng.choice(clients), rng.choice(servers)
    kind = rng.choices(("syn", "data", "ack", "sack"), (8, 40, 44, 8))[0]
    flags = {"syn": "S", "data": "PA", "ack": "A", "sack": "A"}[kind]
    if kind == "syn":
        options = _syn_options(rng)
    elif kind == "sack":
        options = [NOP, NOP, generate._ts(rng), NOP, NOP, generate._sack(rng, rng.randint(1, 3))]
    else:
        options = [NOP, NOP, generate._ts(rng)] if rng.random() < 0.6 else []
    ip_fields = None
    if version == 4 and rng.random() < IP_OPTION_SHARE:
        ip_fields = {"options": rng.choice(IP_OPTIONS)}
    size = rng.randint(1, 1200) if kind == "data" else 0
    return craft.tcp(
        src=client,
        dst=server,
        sport=rng.randint(32768, 60999),
        dport=rng.choice((443, 80, 22)),
        seq=rng.getrandbits(32),
        ack=0 if kind == "syn" else rng.getrandbits(32),
        flags=flags,
        window=rng.choice((64240, 65535, 502, rng.randint(1, 65535))),
        options=options,
        payload=rng.randbytes(size),
        ip_id=rng.getrandbits(16) if version == 4 else 0,
        ip_fields=ip_fields,
    ).data


def _dns(rng: random.Random, answer: bool) -> bytes:
    name = b"".join(
        bytes([len(p)]) + p for p in (b"www", rng.choice((b"example", b"test")), b"org")
    )
    flags = 0x8180 if answer else 0x0100
    head = struct.pack(">HHHHHH", rng.getrandbits(16), flags, 1, 1 if answer else 0, 0, 0)
    question = name + b"\x00" + struct.pack(">HH", 1, 1)
    record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + rng.randbytes(4)
    return head + question + (record if answer else b"")


def _quic(rng: random.Random) -> bytes:
    if rng.random() < 0.3:  # a long header (Initial), padded as clients must (RFC 9000)
        return b"\xc3\x00\x00\x00\x01\x08" + rng.randbytes(8) + rng.randbytes(1180)
    return bytes([0x40 | rng.getrandbits(5)]) + rng.randbytes(rng.randint(20, 1300))


def _udp(rng: random.Random, version: int, hosts: generate.Hosts) -> bytes:
    clients, servers = hosts[version]
    client, server = rng.choice(clients), rng.choice(servers)
    service = rng.choices(("dns", "quic", "syslog"), (50, 40, 10))[0]
    answer = rng.random() < 0.5
    payload = {"dns": lambda: _dns(rng, answer), "quic": lambda: _quic(rng)}.get(
        service, lambda: rng.randbytes(rng.randint(40, 300))
    )()
    port = {"dns": 53, "quic": 443, "syslog": 514}[service]
    cport = rng.randint(32768, 60999)
    src, dst, sp, dp = (server, client, port, cport) if answer else (client, server, cport, port)
    no_checksum = version == 4 and service == "syslog"  # as many syslog senders do
    return craft.udp(
        src=src,
        dst=dst,
        sport=sp,
        dport=dp,
        payload=payload,
        ip_id=rng.getrandbits(16) if version == 4 else 0,
        checksum=0 if no_checksum else None,
    ).data


def build_pool(seed: int, size: int = generate.POOL_SIZE) -> list[bytes]:
    """``size`` distinct Ethernet frames in the proportions of :data:`MIX`, shuffled."""
    rng = random.Random(f"other-{seed}")
    hosts = generate._hosts(rng)
    packets: list[bytes] = []
    for (version, proto, _), count in zip(
        MIX, generate.allocate(size, [m[2] for m in MIX]), strict=True
    ):
        make = _tcp if proto == "tcp" else _udp
        packets += [make(rng, version, hosts) for _ in range(count)]
    rng.shuffle(packets)
    tagged = set(rng.sample(range(len(packets)), round(len(packets) * VLAN_SHARE)))
    frames = []
    for i, ip in enumerate(packets):
        ethertype = 0x0800 if ip[0] >> 4 == 4 else 0x86DD
        layers: list[object] = [Ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", ethertype)]
        if i in tagged:
            layers = [Ethernet("02:00:00:00:00:01", "02:00:00:00:00:02", 0x8100)]
            layers.append(Vlan(0x8100, 0, False, rng.choice(generate.VLAN_IDS), ethertype))
        frame = build(layers, ip)  # type: ignore[arg-type]
        frames.append(frame + bytes(max(0, MIN_FRAME - len(frame))))
    return frames


def capture(
    packets: int, seed: int = generate.DEFAULT_SEED, cache: Path = generate.DEFAULT_CACHE
) -> Path:
    """The cached capture of this mix (see ``generate.capture``)."""
    return generate.capture(packets, seed, cache, mix="other", pool_of=build_pool)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--out", type=Path, help="write here instead of the cache")
    args = parser.parse_args()
    if args.out:
        generate.generate(args.out, args.packets, args.seed, pool_of=build_pool)
        print(args.out)
    else:
        print(capture(args.packets, args.seed))


if __name__ == "__main__":
    main()
