"""A seeded, realistic Ethernet capture for the benchmarks.

The mix: 70 % IPv4/TCP, 10 % IPv6/TCP, 15 % IPv4/UDP, 5 % IPv6/UDP, 3 % of frames with an
802.1Q tag.  TCP segments take the shapes real stacks send (Linux, Windows and macOS SYNs,
timestamps on data, SACK blocks with and without timestamps, bare ACKs, EOL-padded option
lists), so data offsets run from 5 to 15; payloads run from none to a full 1500-byte MTU;
every checksum is right.

How: a pool of ``pool_size`` distinct frames is built through headerkit's own schemas
(``craft.tcp``/``craft.udp`` for the IP packet, ``headerkit.packet.build`` for Ethernet and the VLAN
tag) in exact proportions; records are then drawn from the pool at random and written with
``struct``-packed classic pcap record headers (microsecond timestamps, as tcpdump writes),
so a million packets take seconds.  The same seed, size and pool size give the same bytes.

Run: ``python benchmarks/generate.py --packets 1000000 [--seed 1] [--cache DIR | --out FILE]``
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from headerkit import Ethernet, TcpOption, Vlan, build, craft

VERSION = 1  # part of the cache file name: bump it whenever the output changes
POOL_SIZE = 4000
DEFAULT_SEED = 1
DEFAULT_CACHE = Path(os.environ.get("HEADERKIT_BENCH_CACHE", "/tmp/headerkit-bench"))

# (IP version, transport, share of the packets)
MIX = ((4, "tcp", 0.70), (6, "tcp", 0.10), (4, "udp", 0.15), (6, "udp", 0.05))
VLAN_SHARE = 0.03
VLAN_IDS = (10, 20, 100, 200, 1000)
MTU = 1500
START_US = 1_700_000_000 * 1_000_000  # first timestamp, microseconds since the epoch
CHUNK = 65_536  # records per write

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262_144, 1)  # Ethernet, µs
_TIMESTAMP = struct.Struct("<II")
_ETHERTYPE = {4: 0x0800, 6: 0x86DD}
_SERVER_PORTS = (443, 443, 443, 80, 80, 22, 8080, 3306, 5432, 25, 993)
_TTLS = (64, 64, 128, 57, 116, 255)

Options = Callable[[random.Random], list[TcpOption]]
Hosts = dict[int, tuple[list[str], list[str]]]  # IP version: client and server addresses
NOP, EOL, SACK_PERM = TcpOption(1), TcpOption(0), TcpOption(4, None, None)


def _mss(rng: random.Random) -> TcpOption:
    return TcpOption(2, None, rng.choice((1460, 1460, 1440, 1400, 536, 8960)))


def _ws(rng: random.Random) -> TcpOption:
    return TcpOption(3, None, rng.choice((7, 7, 8, 6, 2, 14)))


def _ts(rng: random.Random) -> TcpOption:
    return TcpOption(8, None, (rng.getrandbits(32), rng.getrandbits(32)))


def _sack(rng: random.Random, blocks: int) -> TcpOption:
    edges = []
    left = rng.getrandbits(32)
    for _ in range(blocks):
        right = (left + rng.randrange(1, 64) * 1448) & 0xFFFFFFFF
        edges.append((left, right))
        left = (right + rng.randrange(1, 32) * 1448) & 0xFFFFFFFF
    return TcpOption(5, None, tuple(edges))


# name (ending in the data offset it gives): weight, flags, carries data, options
TCP_SHAPES: dict[str, tuple[float, str, bool, Options]] = {
    "linux-syn-10": (2, "S", False, lambda r: [_mss(r), SACK_PERM, _ts(r), NOP, _ws(r)]),
    "windows-syn-8": (1, "S", False, lambda r: [_mss(r), NOP, _ws(r), NOP, NOP, SACK_PERM]),
    "macos-syn-11": (
        1,
        "S",
        False,
        lambda r: [_mss(r), NOP, _ws(r), NOP, NOP, _ts(r), SACK_PERM, EOL],
    ),
    "mss-syn-6": (0.5, "S", False, lambda r: [_mss(r)]),
    "mss-ts-syn-9": (0.5, "S", False, lambda r: [_mss(r), NOP, NOP, _ts(r)]),
    "linux-synack-10": (2, "SA", False, lambda r: [_mss(r), SACK_PERM, _ts(r), NOP, _ws(r)]),
    "short-synack-7": (1, "SA", False, lambda r: [_mss(r), NOP, _ws(r)]),
    "eol-synack-7": (0.5, "SA", False, lambda r: [_mss(r), SACK_PERM, EOL]),
    "data-ts-8": (30, "PA", True, lambda r: [NOP, NOP, _ts(r)]),
    "ack-ts-8": (22, "A", False, lambda r: [NOP, NOP, _ts(r)]),
    "data-5": (12, "PA", True, lambda r: []),
    "ack-5": (10, "A", False, lambda r: []),
    "sack1-ts-11": (4, "A", False, lambda r: [NOP, NOP, _ts(r), NOP, NOP, _sack(r, 1)]),
    "sack2-ts-13": (2, "A", False, lambda r: [NOP, NOP, _ts(r), NOP, NOP, _sack(r, 2)]),
    "sack3-ts-15": (1, "A", False, lambda r: [NOP, NOP, _ts(r), NOP, NOP, _sack(r, 3)]),
    "sack1-8": (2, "A", False, lambda r: [NOP, NOP, _sack(r, 1)]),
    "sack2-10": (1, "A", False, lambda r: [NOP, NOP, _sack(r, 2)]),
    "sack3-12": (1, "A", False, lambda r: [NOP, NOP, _sack(r, 3)]),
    "sack4-14": (0.5, "A", False, lambda r: [NOP, NOP, _sack(r, 4)]),
    "fin-ts-8": (2, "FA", False, lambda r: [NOP, NOP, _ts(r)]),
    "rst-5": (1, "R", False, lambda r: []),
}

# UDP server port (0: ephemeral ports both ways) and weight
UDP_SERVICES = {53: 45.0, 443: 30.0, 123: 8.0, 514: 7.0, 0: 10.0}


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, each at least 1 (largest remainder)."""
    exact = [w * total / sum(weights) for w in weights]
    counts = [max(1, int(x)) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in order[: max(0, total - sum(counts))]:
        counts[i] += 1
    return counts


def _hosts(rng: random.Random) -> Hosts:
    """Client and server addresses per IP version, in canonical text form."""

    def v4(first: int, bits: int) -> str:
        return str(ipaddress.IPv4Address((first << 24) | rng.getrandbits(bits)))

    def v6(prefix: str, low: int) -> str:
        return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | low))

    publics = (13, 23, 31, 52, 104, 142, 151, 157, 185, 203)
    return {
        4: (
            [v4(10, 24) for _ in range(60)]
            + [f"192.168.1.{rng.randint(2, 254)}" for _ in range(20)],
            [v4(rng.choice(publics), 24) for _ in range(80)],
        ),
        6: (
            [v6("2001:db8:1:2::", rng.getrandbits(64)) for _ in range(40)]
            + [v6("2001:db8:1::", rng.randint(1, 255)) for _ in range(10)],
            [v6("2001:db8:ffff::", rng.randint(1, 0xFFFF)) for _ in range(20)]
            + [v6("2a00:1450:4001:800::", rng.getrandbits(16)) for _ in range(20)],
        ),
    }


def _options_length(options: list[TcpOption]) -> int:
    size = sum(len(craft.option_bytes(o)) for o in options)
    return size + -size % 4


def _tcp_packet(rng: random.Random, version: int, hosts: Hosts, shape: str) -> bytes:
    _, flags, data, make_options = TCP_SHAPES[shape]
    clients, servers = hosts[version]
    client, server = rng.choice(clients), rng.choice(servers)
    cport, sport = rng.randint(32768, 60999), rng.choice(_SERVER_PORTS)
    to_server = flags == "S" or (flags != "SA" and rng.random() < 0.5)
    src, dst, sp, dp = (
        (client, server, cport, sport) if to_server else (server, client, sport, cport)
    )
    options = make_options(rng)
    room = MTU - (20 if version == 4 else 40) - 20 - _options_length(options)
    size = 0
    if data:
        size = room if rng.random() < 0.45 else rng.randint(1, room)
    return craft.tcp(
        src=src,
        dst=dst,
        sport=sp,
        dport=dp,
        seq=rng.getrandbits(32),
        ack=0 if flags == "S" else rng.getrandbits(32),
        flags=flags,
        window=rng.choice((64240, 65535, 29200, 502, 1026, rng.randint(1, 65535))),
        options=options,
        payload=rng.randbytes(size),
        ttl=rng.choice(_TTLS),
        ip_id=rng.getrandbits(16) if version == 4 else 0,
    ).data


def _udp_size(rng: random.Random, port: int, to_server: bool) -> int:
    if port == 53:
        return rng.randint(20, 60) if to_server else rng.randint(60, 500)
    if port == 443:
        return rng.randint(1200, 1350) if rng.random() < 0.5 else rng.randint(25, 120)
    if port == 123:
        return 48
    if port == 514:
        return rng.randint(60, 400)
    return rng.randint(8, 1400)


def _udp_packet(rng: random.Random, version: int, hosts: Hosts, port: int) -> bytes:
    clients, servers = hosts[version]
    client, server = rng.choice(clients), rng.choice(servers)
    cport = rng.randint(32768, 60999)
    sport = port or rng.randint(1024, 65535)
    to_server = rng.random() < 0.5
    src, dst, sp, dp = (
        (client, server, cport, sport) if to_server else (server, client, sport, cport)
    )
    room = MTU - (20 if version == 4 else 40) - 8
    size = min(room, _udp_size(rng, port, to_server))
    return craft.udp(
        src=src,
        dst=dst,
        sport=sp,
        dport=dp,
        payload=rng.randbytes(size),
        ttl=rng.choice(_TTLS),
        ip_id=rng.getrandbits(16) if version == 4 else 0,
    ).data


def build_pool(seed: int, size: int = POOL_SIZE) -> list[bytes]:
    """``size`` distinct Ethernet frames in the proportions of :data:`MIX`, shuffled."""
    rng = random.Random(seed)
    hosts = _hosts(rng)
    packets: list[bytes] = []
    for (version, proto, _), count in zip(MIX, allocate(size, [m[2] for m in MIX]), strict=True):
        if proto == "tcp":
            weights = [shape[0] for shape in TCP_SHAPES.values()]
            for shape, n in zip(TCP_SHAPES, allocate(count, weights), strict=True):
                packets += [_tcp_packet(rng, version, hosts, shape) for _ in range(n)]
        else:
            weights = list(UDP_SERVICES.values())
            for port, n in zip(UDP_SERVICES, allocate(count, weights), strict=True):
                packets += [_udp_packet(rng, version, hosts, port) for _ in range(n)]
    rng.shuffle(packets)
    tagged = set(rng.sample(range(len(packets)), round(len(packets) * VLAN_SHARE)))
    macs = [(b"\x02" + rng.randbytes(5)).hex(":") for _ in range(16)]
    frames = []
    for i, ip in enumerate(packets):
        ethertype = _ETHERTYPE[ip[0] >> 4]
        dst, src = rng.sample(macs, 2)
        if i in tagged:
            vlan = Vlan(tpid=0x8100, pcp=rng.choice((0, 0, 0, 5)), dei=False, type=ethertype)
            vlan.vid = rng.choice(VLAN_IDS)
            frames.append(build([Ethernet(dst, src, 0x8100), vlan], ip))
        else:
            frames.append(build([Ethernet(dst, src, ethertype)], ip))
    return frames


Pool = Callable[[int, int], list[bytes]]  # (seed, size) -> distinct frames


def generate(
    path: Path,
    packets: int,
    seed: int = DEFAULT_SEED,
    pool_size: int = POOL_SIZE,
    pool_of: Pool | None = None,
) -> None:
    """Write a pcap of ``packets`` records drawn from a pool of frames (:func:`build_pool`
    unless ``pool_of`` is given; see the module)."""
    pool = (pool_of or build_pool)(seed, pool_size)
    rng = random.Random(f"records-{seed}")
    tails = [struct.pack("<II", len(f), len(f)) + f for f in pool]
    pack = _TIMESTAMP.pack
    usec = START_US
    with open(path, "wb") as out:
        out.write(PCAP_HEADER)
        for done in range(0, packets, CHUNK):
            n = min(CHUNK, packets - done)
            parts = []
            for tail, gap in zip(
                rng.choices(tails, k=n), rng.choices(range(1, 400), k=n), strict=True
            ):
                usec += gap
                parts.append(pack(*divmod(usec, 1_000_000)))
                parts.append(tail)
            out.write(b"".join(parts))


def cache_path(
    packets: int, seed: int = DEFAULT_SEED, cache: Path = DEFAULT_CACHE, mix: str = "mix"
) -> Path:
    """Where the capture of ``packets`` packets for ``seed`` is cached."""
    return cache / f"{mix}-v{VERSION}-seed{seed}-{packets}.pcap"


def capture(
    packets: int,
    seed: int = DEFAULT_SEED,
    cache: Path = DEFAULT_CACHE,
    mix: str = "mix",
    pool_of: Pool | None = None,
) -> Path:
    """The cached capture of ``packets`` packets for ``seed``, generated if missing
    (``mix`` names another pool, ``pool_of``, in the cache)."""
    path = cache_path(packets, seed, cache, mix)
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".partial{os.getpid()}")
        start = time.perf_counter()
        generate(partial, packets, seed, pool_of=pool_of)
        os.replace(partial, path)
        took = time.perf_counter() - start
        print(
            f"generated {path} ({path.stat().st_size / 1e6:,.0f} MB) in {took:.1f} s",
            file=sys.stderr,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cache directory")
    parser.add_argument("--out", type=Path, help="write here instead (never cached)")
    args = parser.parse_args()
    if args.out:
        generate(args.out, args.packets, args.seed)
        print(args.out)
    else:
        print(capture(args.packets, args.seed, args.cache))


if __name__ == "__main__":
    main()
