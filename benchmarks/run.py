"""Decode one generated capture with headerkit and its peers; print a Markdown table.

Every path runs in its own process (``benchmarks/worker.py``), once per round, round-robin;
the table gives the median time per path and the largest peak RSS over the rounds.  Every
decoding path reduces the packets to the same fields and must agree on their checksum (see
``benchmarks/decoders.py``), and the two record walks on the record lengths; the run stops
with status 1 when any disagree.  The command-line rows time ``headerkit decode --format
jsonl FILE > /dev/null`` and the ``tshark -T fields`` command whose output the ``tshark``
row checks; the headerkit CLI's JSON output is checked once, before the rounds.

Run: ``python benchmarks/run.py --packets 1000000 --rounds 3`` or ``python benchmarks/run.py
--quick`` (100k packets, one to two minutes).  The Markdown also goes to ``--out``."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import inspect
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import generate, generate_other
from benchmarks.decoders import TSHARK_FIELDS, Digest

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "benchmarks" / "worker.py"
WORKER_ENV = {**os.environ, "PYTHONHASHSEED": "0"}  # the checksum hashes strings
TEN_MILLION = 10_000_000
TIMES = "\u00d7"  # the ratio columns' sign
# the captures to measure on: the main mix, and another to check the ratios hold
MIXES: dict[str, Callable[[int, int, Path], Path]] = {
    "main": generate.capture,
    "other": generate_other.capture,
}
MIX_TEXT = {
    "main": "`benchmarks/generate.py`: 70 % IPv4/TCP, 10 % IPv6/TCP, 15 % IPv4/UDP, 5 % IPv6/UDP, "
    "3 % VLAN-tagged, TCP data offsets 5 to 15",
    "other": "`benchmarks/generate_other.py`: Ethernet padding, IPv4 options on 20 % of IPv4/TCP, "
    "TFO, MPTCP and EOL-padded SYNs, UDP without checksums, DNS and QUIC payloads, 5 % VLAN",
}
CHANGED = "the rounds measured different code; rerun on a quiet tree"


@dataclass
class Bench:
    """One row of the table: a path and what was measured of it."""

    name: str
    label: str
    kind: Literal["fields", "ports", "lengths", "command"]  # lengths: the record walks
    missing: str | None = None  # why the path cannot run here
    limit: int | None = None  # decode only the first N packets
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def rate(self) -> float:
        return self.runs[0].packets / self.seconds

    @property
    def rss_kib(self) -> int:
        return max(r.rss_kib for r in self.runs)


@dataclass(frozen=True)
class Run:
    packets: int
    seconds: float
    rss_kib: int
    digest: Digest | None = None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def benches(scapy_packets: int) -> list[Bench]:
    """Every path, in table order, with the reason it cannot run here, if any."""
    import headerkit

    def lib(module: str) -> str | None:
        return None if importlib.util.find_spec(module) else f"{module} is not installed"

    read_table = getattr(headerkit, "read_table", None)
    no_table = None if read_table else "not available (no headerkit.read_table)"
    no_arrow = no_table
    if read_table and "engine" not in inspect.signature(read_table).parameters:
        no_arrow = "not available (read_table has no engine)"
    tshark = shutil.which("tshark")
    no_tshark = None if tshark else "tshark is not on PATH"
    tshark_version = tshark_release() if tshark else ""
    return [
        Bench("headerkit", "headerkit `decode_capture`, per packet", "fields"),
        Bench("headerkit-ports", "headerkit `decode_capture`, ports and flags only", "ports"),
        Bench("table-pandas", "headerkit `read_table(path)` → pandas", "fields", no_table),
        Bench("table-arrow", 'headerkit `read_table(path, engine="arrow")`', "fields", no_arrow),
        Bench("dpkt", f"dpkt {_version('dpkt')}", "fields", lib("dpkt")),
        Bench("dpkt-ports", f"dpkt {_version('dpkt')}, ports and flags only", "ports", lib("dpkt")),
        Bench(
            "scapy",
            f"scapy {_version('scapy')} `PcapReader` (first {scapy_packets:,} packets)",
            "fields",
            lib("scapy"),
            limit=scapy_packets,
        ),
        Bench(
            "tshark", f"tshark {tshark_version} `-T fields`, read by Python", "fields", no_tshark
        ),
        Bench("struct", "plain `struct.unpack_from` loop, 1 MiB buffers", "fields"),
        Bench("walk-headerkit", "headerkit `captures.read_capture`, records only", "lengths"),
        Bench("walk-python", "plain-Python pcap record walk", "lengths"),
        Bench("cli-headerkit", "`headerkit decode --format jsonl FILE > /dev/null`", "command"),
        Bench(
            "cli-tshark",
            f"`tshark -T fields` ({len(TSHARK_FIELDS)} fields) `> /dev/null`",
            "command",
            no_tshark,
        ),
    ]


def tshark_release() -> str:
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    return out.split()[2] if out.startswith("TShark") else "?"


def run_worker(name: str, capture: Path, packets: int, limit: int | None, checkpoint: int) -> Run:
    """One measurement of a path, in a fresh process (a command's ``packets`` are given)."""
    command = [sys.executable, str(WORKER), name, str(capture), "--checkpoint", str(checkpoint)]
    if limit is not None:
        command += ["--limit", str(limit)]
    proc = subprocess.run(command, capture_output=True, text=True, env=WORKER_ENV)
    if proc.returncode:
        sys.exit(f"benchmark path {name} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.splitlines()[-1])
    if "checksum" not in out:
        return Run(packets, out["seconds"], out["rss_kib"])
    found = Digest(out["packets"], out["checksum"], out["prefix"])
    return Run(out["packets"], out["seconds"], out["rss_kib"], found)


def disagreements(
    digests: Mapping[str, Digest],
    limited: Collection[str] = (),
    lengths: Collection[str] = (),
    ports: Collection[str] = (),
) -> list[str]:
    """What the paths' digests disagree on (empty when they all agree).

    Paths in ``lengths`` (record walks) must agree with each other, and those in ``ports``
    (ports and flags only) with each other; the others on their field checksum, except that
    those in ``limited`` decoded only the first packets and are held to the others'
    ``prefix``; all but the limited ones must count the same packets.
    """
    fields = {n: d for n, d in digests.items() if n not in lengths and n not in ports}
    full = {n: d for n, d in fields.items() if n not in limited}
    walks = {n: d for n, d in digests.items() if n in lengths}
    few = {n: d for n, d in digests.items() if n in ports}
    problems = [
        _split("field checksums", full, lambda d: f"{d.packets:,} packets, {d.checksum:016x}"),
        _split("checksums of the first packets", fields, lambda d: f"{d.prefix:016x}"),
        _split("record walks", walks, lambda d: f"{d.packets:,} records, {d.checksum:016x}"),
        _split("ports and flags", few, lambda d: f"{d.packets:,} packets, {d.checksum:016x}"),
        _split("packet counts", {**full, **walks, **few}, lambda d: f"{d.packets:,}"),
    ]
    return [p for p in problems if p]


def _split(what: str, digests: Mapping[str, Digest], key: Callable[[Digest], str]) -> str:
    """'' when every digest gives the same ``key(digest)``, else a line naming the groups."""
    groups: dict[str, list[str]] = {}
    for name, found in digests.items():
        groups.setdefault(key(found), []).append(name)
    if len(groups) < 2:
        return ""
    return f"{what} differ: " + "; ".join(f"{', '.join(n)}: {k}" for k, n in groups.items())


def check(results: list[Bench], extra: Mapping[str, Digest]) -> None:
    """Stop the run, loudly, when the paths' first rounds disagree (``extra``: checks run
    outside the rounds)."""
    ran = [b for b in results if b.runs and b.runs[0].digest is not None]
    digests = {b.name: b.runs[0].digest for b in ran if b.runs[0].digest} | dict(extra)
    limited = {b.name for b in ran if b.limit is not None}
    lengths = {b.name for b in ran if b.kind == "lengths"}
    ports = {b.name for b in ran if b.kind == "ports"}
    problems = disagreements(digests, limited, lengths, ports)
    for b in ran:
        if any(r.digest != b.runs[0].digest for r in b.runs):
            problems.append(f"{b.name} gave different checksums in different rounds")
    if problems:
        sys.exit("DISAGREEMENT, the table would be meaningless:\n  " + "\n  ".join(problems))


def measure(
    table: list[Bench], capture: Path, packets: int, rounds: int, checkpoint: int
) -> dict[str, Digest]:
    """Run every available path ``rounds`` times; return the checks made outside rounds."""
    extra: dict[str, Digest] = {}
    if any(b.name == "cli-headerkit" and not b.missing for b in table):
        # the CLI rows throw their output away: check headerkit's JSON Lines once here
        verified = run_worker("cli-jsonl", capture, packets, None, checkpoint).digest
        assert verified is not None
        extra["cli-headerkit (its JSON Lines)"] = verified
    for round_ in range(1, rounds + 1):
        for bench in table:
            if bench.missing:
                continue
            run = run_worker(bench.name, capture, packets, bench.limit, checkpoint)
            bench.runs.append(run)
            rate = run.packets / run.seconds
            print(
                f"round {round_}/{rounds} {bench.name:15} {_rate(rate):>7} packets/s "
                f"{run.seconds:8.2f} s {_mib(run.rss_kib):>9}",
                file=sys.stderr,
            )
        check(table, extra)
    return extra


def curve(sizes: list[int], args: argparse.Namespace, main: Bench) -> list[tuple[int, Bench]]:
    """headerkit's per-packet decode at each size (the main size reuses the main rows)."""
    points = []
    for size in sizes:
        if size == args.packets and main.runs:
            points.append((size, main))
            continue
        capture = MIXES[args.mix](size, args.seed, args.cache)
        point = Bench("headerkit", main.label, "fields")
        for _ in range(args.rounds):
            point.runs.append(run_worker("headerkit", capture, size, None, 0))
            print(f"curve {size:>10,} packets {point.runs[-1].seconds:8.2f} s", file=sys.stderr)
        if any(r.packets != size for r in point.runs):
            sys.exit(f"headerkit decoded {point.runs[0].packets:,} of {size:,} packets")
        points.append((size, point))
    return points


def simulator_section() -> list[str]:
    """The simulator against SimPy and its pcap export against decode, measured by
    ``benchmarks/bench_simulator.py`` (a 100 MB bulk transfer) in its own process."""
    if importlib.util.find_spec("simpy") is None:
        return [
            "## Simulator",
            "",
            "Not measured: simpy is not installed (`pip install -e '.[bench]'`).",
        ]
    script = Path(__file__).resolve().with_name("bench_simulator.py")
    run = subprocess.run(
        [sys.executable, str(script), "--mb", "100"], capture_output=True, text=True, check=True
    )
    return ["## Simulator", "", *run.stdout.splitlines()]


# --- the report ---------------------------------------------------------------------------


def _rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f}M"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f}k"
    return f"{per_second:.0f}"


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def _seconds(bench: Bench) -> str:
    """The median time and, over several rounds, the range."""
    times = [r.seconds for r in bench.runs]
    spread = f" ({min(times):.2f}-{max(times):.2f})" if len(times) > 1 else ""
    return f"{bench.seconds:.2f}{spread}"


def _ratio(bench: Bench, base: Bench | None) -> str:
    if base is None or not base.runs or not bench.runs:
        return "—"
    return f"{bench.rate / base.rate:.2f}"


def sources() -> dict[str, str]:
    """A hash of each of headerkit's source files, to notice edits made during a run."""
    spec = importlib.util.find_spec("headerkit")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent
    return {
        str(path.relative_to(package.parent)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(package.rglob("*.py"))
    }


def fingerprint(files: Mapping[str, str]) -> str:
    return hashlib.sha256("".join(files.values()).encode()).hexdigest()[:12]


def machine() -> list[str]:
    """CPU, cores, memory, OS, load, Python and the versions of what is measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.platform()}; "
        f"load average at the start {load}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); "
        f"headerkit {_version('headerkit')} (commit {commit or '?'}, "
        f"sources {fingerprint(sources())}), "
        f"dpkt {_version('dpkt')}, scapy {_version('scapy')}, pandas {_version('pandas')}, "
        f"pyarrow {_version('pyarrow')}",
    ]


def report(
    args: argparse.Namespace,
    about: list[str],
    capture: Path,
    table: list[Bench],
    extra: Mapping[str, Digest],
    points: list[tuple[int, Bench]],
) -> str:
    by_name = {b.name: b for b in table}
    dpkt, walk = by_name["dpkt"], by_name["walk-headerkit"]
    decoders = [b for b in table if b.kind == "fields" and b.runs and b.limit is None]
    limited = [f"{b.name} on its first {b.limit:,}" for b in table if b.runs and b.limit]
    agreed = ", ".join([b.name for b in decoders] + list(extra) + limited)
    found = decoders[0].runs[0].digest if decoders else None
    size = capture.stat().st_size / 1e6
    lines = [
        f"# headerkit benchmarks: {args.packets:,} packets, {args.rounds} rounds",
        "",
        *about,
        f"- Capture: `{capture.name}` ({size:,.0f} MB, seed {args.seed}), generated by "
        + MIX_TEXT[args.mix],
        "- Each path in its own process, round-robin; median time over the rounds; peak RSS "
        "is the largest over the rounds (VmHWM of the process; commands: `ru_maxrss`; the "
        "tshark decoding row: tshark's plus its reader's)",
        f"- Field checksum `{found.checksum:016x}` over {found.packets:,} packets, agreed by "
        f"{agreed}"
        if found
        else "- No decoding path ran",
        "",
        "## Decoding to TCP/UDP fields, options parsed (ports-only rows: ports and flags)",
        "",
        f"| path | packets/s | {TIMES} dpkt | {TIMES} record walk | peak RSS | s, median (range) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for b in table:
        if b.kind == "command":
            continue
        if b.missing:
            lines.append(f"| {b.label} | {b.missing} | | | | |")
            continue
        lines.append(
            f"| {b.label} | {_rate(b.rate)} | {_ratio(b, dpkt)} | {_ratio(b, walk)} "
            f"| {_mib(b.rss_kib)} | {_seconds(b)} |"
        )
    tshark_cli = by_name["cli-tshark"]
    lines += [
        "",
        "Columnar rows time the `read_table` call; their checksum is taken from the table "
        "afterwards. Record walks read records without decoding them.",
        "",
        "## Command line, end to end (interpreter or tshark start-up included)",
        "",
        f"| command | packets/s | {TIMES} tshark | peak RSS | s, median (range) |",
        "|---|---:|---:|---:|---:|",
    ]
    for b in table:
        if b.kind != "command":
            continue
        if b.missing:
            lines.append(f"| {b.label} | {b.missing} | | | |")
            continue
        lines.append(
            f"| {b.label} | {_rate(b.rate)} | {_ratio(b, tshark_cli)} | {_mib(b.rss_kib)} "
            f"| {_seconds(b)} |"
        )
    lines += [
        "",
        "## Streaming: headerkit `decode_capture` as the capture grows",
        "",
        "| packets | s, median (range) | µs/packet | packets/s | peak RSS |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size, point in points:
        lines.append(
            f"| {size:,} | {_seconds(point)} | {point.seconds / size * 1e6:.2f} "
            f"| {_rate(point.rate)} | {_mib(point.rss_kib)} |"
        )
    return "\n".join([*lines, "", *simulator_section(), ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--packets", type=int, default=1_000_000, help="capture size")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each path")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="capture seed")
    parser.add_argument("--cache", type=Path, default=generate.DEFAULT_CACHE, help="captures")
    parser.add_argument("--scapy-packets", type=int, default=20_000, help="scapy's subset")
    parser.add_argument("--curve", type=int, nargs="*", help="sizes (default: 100k, --packets)")
    parser.add_argument("--curve-10m", action="store_true", help="add 10M packets to the curve")
    parser.add_argument("--only", nargs="+", metavar="PATH", help="run only these paths")
    parser.add_argument("--quick", action="store_true", help="100k packets, scapy 5k, curve 10k")
    parser.add_argument("--out", type=Path, help="Markdown file (default: in the cache dir)")
    parser.add_argument("--mix", choices=sorted(MIXES), default="main", help="the capture's mix")
    args = parser.parse_args()
    if args.quick:
        args.packets, args.scapy_packets = 100_000, 5_000
        args.curve = args.curve or [10_000, 100_000]
    sizes = sorted(set(args.curve or [100_000, args.packets]))
    if args.curve_10m:
        sizes.append(TEN_MILLION)
    scapy_packets = min(args.scapy_packets, args.packets)

    capture = MIXES[args.mix](args.packets, args.seed, args.cache)
    table = benches(scapy_packets)
    for bench in table:
        if args.only and bench.name not in args.only:
            bench.missing = bench.missing or "not run (--only)"
    about = machine()
    print("\n".join(about), file=sys.stderr)
    before = sources()
    extra = measure(table, capture, args.packets, args.rounds, scapy_packets)
    main_rows = next(b for b in table if b.name == "headerkit")
    points = curve(sizes, args, main_rows) if not main_rows.missing else []
    after = sources()
    changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
    if changed:
        warning = f"{', '.join(changed)} changed during the run: {CHANGED}"
        about.append(f"- **{warning}**")
        print(f"WARNING: {warning}", file=sys.stderr)
    text = report(args, about, capture, table, extra, points)
    out = args.out or args.cache / f"results-{args.mix}-{args.packets}.md"
    out.write_text(text)
    print(text)
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
