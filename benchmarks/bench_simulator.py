"""The simulator's speed, side by side: ``python benchmarks/bench_simulator.py [--mb 100]``.

A bulk transfer (one send() of N MB, MSS 1460) through headerkit.sim, against a SimPy loop
that passes the same number of messages (each data segment and each ACK) between two
processes through stores with a per-message delay; then the simulation's pcap export
against decode reading that capture back.  Times are per message / per packet.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import simpy

from headerkit.captures.decoded import decode_capture
from headerkit.sim import scenario_from_dict, simulate
from headerkit.sim.pcap import write_pcap
from headerkit.sim.trace import Kind


def bulk(megabytes: int) -> dict[str, object]:
    size = megabytes * 1_000_000
    return {
        "name": f"bulk-{megabytes}MB",
        "protocol": "tcp",
        "seed": 1,
        "path": {"delay": 0.020, "bandwidth": 1_000_000_000},
        "a": {"sndbuf": 4 << 20, "calls": [{"call": "send", "size": size}, {"call": "close"}]},
        "b": {
            "rcvbuf": 4 << 20,
            "calls": [{"call": "recv", "size": 1 << 20, "loop": True}, {"call": "close"}],
        },
    }


def simpy_loop(data: int, acks: int) -> float:
    """Seconds for SimPy to pass ``data`` messages one way and ``acks`` the other."""
    env = simpy.Environment()
    forward, back = simpy.Store(env), simpy.Store(env)

    def sender() -> simpy.events.ProcessGenerator:
        for i in range(data):
            yield env.timeout(0.000012)  # 1500 bytes at 1 Gbit/s
            yield forward.put(i)

    def receiver() -> simpy.events.ProcessGenerator:
        for i in range(data):
            yield forward.get()
            if i % 2 and i // 2 < acks:
                yield back.put(i)

    def acker() -> simpy.events.ProcessGenerator:
        for _ in range(acks):
            yield back.get()

    for process in (sender, receiver, acker):
        env.process(process())
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100, help="size of the transfer in MB")
    args = parser.parse_args()

    start = time.perf_counter()
    result = simulate(scenario_from_dict(bulk(args.mb)))
    sim_s = time.perf_counter() - start
    sent = [e for e in result.entries if e.kind is Kind.SEND]
    data = sum(1 for e in sent if e.side == 0 and getattr(e.packet, "payload", b""))
    acks = sum(1 for e in sent if e.side == 1)
    assert sum(len(r) for r in result.streams[1].recvs) == args.mb * 1_000_000
    simpy_s = simpy_loop(data, acks)
    messages = data + acks

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulk.pcap"
        start = time.perf_counter()
        packets = write_pcap(result, path)
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        decoded = sum(1 for _ in decode_capture(path))
        decode_s = time.perf_counter() - start
    assert decoded == packets

    print(f"bulk transfer of {args.mb} MB: {data:,} data segments, {acks:,} ACKs")
    table("SimPy", [("headerkit.sim", sim_s), ("SimPy loop, same messages", simpy_s)], messages)
    table("decode", [("pcap export", export_s), ("decode reading it back", decode_s)], packets)


def table(baseline: str, rows: list[tuple[str, float]], count: int) -> None:
    """A Markdown table: seconds, microseconds per item, speed relative to the last row."""
    print(f"\n| path | seconds | µs each | speed vs {baseline} |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        each, speed = seconds / count * 1e6, rows[-1][1] / seconds
        print(f"| {name} | {seconds:.2f} | {each:.1f} | {speed:.2f} |")


if __name__ == "__main__":
    main()
