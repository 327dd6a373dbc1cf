"""The simulator's speed, side by side: ``python benchmarks/bench_simulator.py [--mb 100]``.

A bulk transfer (one send() of N MB, MSS 1460, 20 ms each way) in three simulators, in one
run, several rounds, medians:

* headerkit.sim, the whole model: both sockets, the trace and buffer samples;
* ns.py (the ``ns.py`` package): its TCPPacketGenerator (TCP Reno, RFC 6298 RTO) sending the
  same bytes through a Wire to a TCPSink and back;
* a bare SimPy loop passing as many messages as headerkit's transfer had (each data segment
  and each ACK) between processes through stores with a per-message delay.

Then the simulation's pcap export against decode reading that capture back, every packet
decoded whole (its layers, options and checksums: what ``packet.problems`` completes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import simpy

from headerkit.captures.decoded import decode_capture
from headerkit.sim import scenario_from_dict, simulate
from headerkit.sim.pcap import write_pcap
from headerkit.sim.trace import Kind

MSS = 1460
DELAY = 0.020


def bulk(megabytes: int) -> dict[str, object]:
    size = megabytes * 1_000_000
    return {
        "name": f"bulk-{megabytes}MB",
        "protocol": "tcp",
        "seed": 1,
        "path": {"delay": DELAY, "bandwidth": 1_000_000_000},
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


def ns_py(size: int) -> tuple[float, int] | None:
    """Seconds for ns.py to move ``size`` bytes, and the data segments it sent (None when
    the package is missing)."""
    try:
        from ns.flow.cc import TCPReno
        from ns.flow.flow import Flow
        from ns.packet.tcp_generator import TCPPacketGenerator
        from ns.packet.tcp_sink import TCPSink
        from ns.port.wire import Wire
    except ImportError:
        return None
    env = simpy.Environment()
    flow = Flow(fid=0, src="a", dst="b", size=size, start_time=0, finish_time=1e9)
    reno = TCPReno(mss=MSS, cwnd=10 * MSS, ssthresh=1 << 30)  # headerkit's initial window
    sender = TCPPacketGenerator(env, flow=flow, cc=reno, element_id="a")
    sender.mss = MSS
    there, back = Wire(env, lambda: DELAY, wire_id=1), Wire(env, lambda: DELAY, wire_id=2)
    sink = TCPSink(env, rec_waits=False, rec_arrivals=False, rec_flow_ids=False)
    sender.out, there.out, sink.out, back.out = there, sink, back, sender
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start, there.packets_rec


def interleaved(rounds: int, *runs: Callable[[], float]) -> list[float]:
    """Each run's median seconds over ``rounds``, the runs taking turns in every round."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, seconds in zip(runs, times, strict=True):
            seconds.append(run())
    return [statistics.median(seconds) for seconds in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100, help="size of the transfer in MB")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (medians are given)")
    args = parser.parse_args()
    scenario = scenario_from_dict(bulk(args.mb))

    def headerkit_run() -> float:
        start = time.perf_counter()
        simulate(scenario)
        return time.perf_counter() - start

    result = simulate(scenario)
    sent = [e for e in result.entries if e.kind is Kind.SEND]
    data = sum(1 for e in sent if e.side == 0 and getattr(e.packet, "payload", b""))
    acks = sum(1 for e in sent if e.side == 1)
    assert sum(len(r) for r in result.streams[1].recvs) == args.mb * 1_000_000
    messages = data + acks
    # rounds interleaved, so that the shared machine's slow spells fall on both alike
    sim_s, simpy_s = interleaved(args.rounds, headerkit_run, lambda: simpy_loop(data, acks))
    ns = ns_py(args.mb * 1_000_000)  # once: it takes minutes at 100 MB

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bulk.pcap"
        packets = write_pcap(result, path)

        def export() -> float:
            start = time.perf_counter()
            write_pcap(result, path)
            return time.perf_counter() - start

        def decode() -> float:
            start = time.perf_counter()
            decoded = sum(1 for packet in decode_capture(path) if packet.problems is not None)
            assert decoded == packets
            return time.perf_counter() - start

        export_s, decode_s = interleaved(args.rounds, export, decode)

    print(f"bulk transfer of {args.mb} MB: {data:,} data segments, {acks:,} ACKs")
    print("\n| per message (data segment or ACK) | seconds | µs each | headerkit's speed |")
    print("|---|---:|---:|---:|")
    row("headerkit.sim", sim_s, messages, sim_s)
    row("SimPy loop, same messages", simpy_s, messages, sim_s)
    if ns is None:
        print("\nns.py is not installed (pip install ns.py): no comparison with it")
    else:
        ns_s, ns_segments = ns
        print("\n| per data segment | seconds | µs each | headerkit's speed |")
        print("|---|---:|---:|---:|")
        row("headerkit.sim", sim_s, data, sim_s / data * ns_segments)
        row(
            f"ns.py ({ns_segments:,} segments, one round)",
            ns_s,
            ns_segments,
            sim_s / data * ns_segments,
        )
    print("\n| per packet | seconds | µs each | export's speed |")
    print("|---|---:|---:|---:|")
    row("pcap export", export_s, packets, export_s)
    row("decode reading it back, whole", decode_s, packets, export_s)


def row(name: str, seconds: float, count: int, reference: float) -> None:
    """A Markdown row: seconds, microseconds per item, headerkit's speed relative to it."""
    print(f"| {name} | {seconds:.2f} | {seconds / count * 1e6:.1f} | {seconds / reference:.2f}x |")


if __name__ == "__main__":
    main()
