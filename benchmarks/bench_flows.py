"""Whole-capture flow work in bounded memory: a SYN scan of N connections (each a flow of
its own), read by ``headerkit flows`` (the flow table) and by ``decode --flows`` (per-packet
fields), each in its own process; prints time and peak RSS for each flow-state limit.

    python benchmarks/bench_flows.py --packets 1000000 --limits 100000 1000000
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from headerkit.captures import PcapWriter
from headerkit.interop import craft
from headerkit.schemas.linktypes import LinkType

WORK = """
import resource, sys, warnings
from headerkit.captures.decoded import decode_capture
from headerkit.flows import FlowTable
from headerkit.flows.table import annotate
warnings.simplefilter("ignore")
path, mode, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "table":
    table = FlowTable(max_flows=limit)
    for pkt in decode_capture(path):
        table.add(pkt)
else:
    sum(1 for _ in annotate(decode_capture(path), max_flows=limit))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def syn_scan(path: Path, count: int) -> None:
    """``count`` SYNs from distinct (address, port) pairs to one server."""
    template = bytearray(craft.tcp(src="10.0.0.1", dst="10.255.0.1", sport=1, dport=80).data)
    with PcapWriter(path, LinkType.RAW) as writer:
        for i in range(count):
            template[12:16] = struct.pack(">I", 0x0A000000 | i // 64000)  # 10.x.y.z
            template[20:22] = struct.pack(">H", 1024 + i % 64000)
            writer.write(bytes(template), timestamp_ns=i * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--limits", type=int, nargs="+", default=[100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.pcap"
        syn_scan(path, args.packets)
        print(f"SYN scan: {args.packets:,} connections, {path.stat().st_size >> 20} MiB")
        print("| work | flow-state limit | seconds | peak RSS |")
        print("|---|---:|---:|---:|")
        for mode in ("table", "fields"):
            for limit in args.limits:
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", WORK, str(path), mode, str(limit)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                took = time.perf_counter() - start
                peak = int(done.stdout.split()[-1]) >> 10  # KiB -> MiB
                name = "headerkit flows (table)" if mode == "table" else "decode --flows"
                print(f"| {name} | {limit:,} | {took:.1f} | {peak} MiB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
