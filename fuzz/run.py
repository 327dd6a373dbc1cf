"""Run a fuzz target with atheris: ``python -m fuzz.run decode --seconds 60``.

Seeds come from the repository's own captures (``pcaps/``) and crafted packets; findings
are written to ``fuzz/findings/<target>/`` and make the run exit non-zero; libFuzzer's last
line ("Done N runs in S second(s)") gives the number of executions.  Each finding becomes a
regression test with its input under ``tests/regressions/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]

with atheris.instrument_imports(include=["headerkit"]):
    from fuzz.seeds import write_seeds
    from fuzz.targets import TARGETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--seconds", type=int, help="stop after this many seconds")
    parser.add_argument("--runs", type=int, help="stop after this many executions")
    parser.add_argument("--work", default="/tmp/headerkit-fuzz", help="corpus directory")
    parser.add_argument("--seed", type=int, help="libFuzzer's random seed, for a repeatable run")
    args = parser.parse_args()

    corpus = Path(args.work) / args.target
    corpus.mkdir(parents=True, exist_ok=True)
    write_seeds(args.target, corpus)
    findings = ROOT / "fuzz" / "findings" / args.target
    findings.mkdir(parents=True, exist_ok=True)

    target = TARGETS[args.target]
    flags = [
        sys.argv[0],
        str(corpus),
        f"-artifact_prefix={findings}/",
        f"-max_len={target.max_len}",
    ]
    if args.seconds:
        flags.append(f"-max_total_time={args.seconds}")
    if args.runs:
        flags.append(f"-runs={args.runs}")
    if args.seed is not None:
        flags.append(f"-seed={args.seed}")
    atheris.Setup(flags, target.run)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
