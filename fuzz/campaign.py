"""Run every fuzz target for a number of executions and print what each did.

``python -m fuzz.campaign --runs 10000000 --jobs 2`` runs the targets of ``fuzz/targets.py``
(each in its own ``fuzz.run`` process, ``--jobs`` at a time, longest first) and prints a
table: executions, seconds, executions per second, coverage and findings.  Each target's
libFuzzer log is kept in ``--work``.  Exits non-zero if any target found something.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fuzz.targets import TARGETS

ROOT = Path(__file__).resolve().parents[1]
DONE = re.compile(r"^Done (\d+) runs in (\d+) second", re.M)
COVERAGE = re.compile(r"cov: (\d+) ft: (\d+)")

FINDING = re.compile(r"Test unit written to (\S+)")


@dataclass(frozen=True)
class Outcome:
    target: str
    status: int
    runs: int
    seconds: float
    coverage: str
    findings: int


def run(target: str, runs: int, work: Path, seed: int) -> Outcome:
    log = work / f"{target}.log"
    started = time.monotonic()
    with log.open("w") as out:
        command = [sys.executable, "-m", "fuzz.run", target, "--runs", str(runs)]
        status = subprocess.run(
            [*command, "--work", str(work), "--seed", str(seed)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode
    text = log.read_text(errors="replace")
    done = DONE.search(text)
    covered = COVERAGE.findall(text)
    return Outcome(
        target,
        status,
        int(done.group(1)) if done else 0,
        time.monotonic() - started,
        f"cov {covered[-1][0]} ft {covered[-1][1]}" if covered else "-",
        len(FINDING.findall(text)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000_000, help="executions per target")
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once")
    parser.add_argument("--work", type=Path, default=Path("/tmp/headerkit-fuzz"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("targets", nargs="*", help=f"some of {', '.join(TARGETS)} (all)")
    args = parser.parse_args()
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(
            f"unknown target {', '.join(sorted(unknown))}: choose from {', '.join(TARGETS)}"
        )
    args.work.mkdir(parents=True, exist_ok=True)
    chosen = args.targets or list(TARGETS)
    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(lambda t: run(t, args.runs, args.work, args.seed), chosen))
    print(
        f"{'target':12} {'executions':>12} {'seconds':>9} {'exec/s':>8}  coverage          findings"
    )
    for o in outcomes:
        rate = o.runs / o.seconds if o.seconds else 0
        print(
            f"{o.target:12} {o.runs:12,} {o.seconds:9.0f} {rate:8.0f}  {o.coverage:17} {o.findings}"
        )
    sys.exit(any(o.status or o.findings for o in outcomes))


if __name__ == "__main__":
    main()
