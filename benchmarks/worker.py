"""Run one benchmark path in this process and print what it measured as one JSON line.

``benchmarks/run.py`` starts one of these per path and round, so that imports and memory do
not leak from one decoder to the next:
``python benchmarks/worker.py PATH FILE [--limit N] [--checkpoint N]``.

The clock runs from opening the file to the last row (imports excluded).  The columnar paths
(``table-pandas``, ``table-arrow``) time the ``read_table`` call alone and read their peak
RSS right after it; their rows for the checksum are made from the table after that.  The
command paths (``cli-headerkit``, ``cli-tshark``) time a command with its output sent to
/dev/null, start-up included, and take its peak RSS from ``wait4``: started from this small
process, it does not inherit the larger runner's ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.decoders import PATHS, Digest, cli_command, digest, table_rows, tshark_command

TABLES: dict[str, dict[str, Any]] = {"table-pandas": {}, "table-arrow": {"engine": "arrow"}}
COMMANDS = {"cli-headerkit": cli_command, "cli-tshark": tshark_command}


def peak_rss_kib() -> int:
    """Peak resident memory of this process plus that of its finished children, in KiB.

    This process's own is VmHWM, which, unlike ``ru_maxrss``, starts afresh at ``exec``.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status") as f:
            own = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    return own + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def time_command(command: list[str]) -> dict[str, Any]:
    """Run ``command > /dev/null``: seconds and peak RSS."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=null)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{command[0]} exited with status {proc.returncode}")
    return {"seconds": seconds, "rss_kib": usage.ru_maxrss}


def measure(name: str, path: Path, limit: int | None, checkpoint: int) -> dict[str, Any]:
    """Run path ``name`` over ``path``: packets, checksum, prefix, seconds, rss_kib (for a
    command: seconds and rss_kib)."""
    result: Digest
    if name in COMMANDS:
        return time_command(COMMANDS[name](path))
    if name in TABLES:
        import headerkit

        start = time.perf_counter()
        table = headerkit.read_table(path, **TABLES[name])
        seconds = time.perf_counter() - start
        rss = peak_rss_kib()
        result = digest(table_rows(table), checkpoint)
    else:
        rows = PATHS[name]()
        start = time.perf_counter()
        result = digest(rows(path, limit), checkpoint)
        seconds = time.perf_counter() - start
        rss = peak_rss_kib()
    return {
        "packets": result.packets,
        "checksum": result.checksum,
        "prefix": result.prefix,
        "seconds": seconds,
        "rss_kib": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", choices=[*PATHS, *TABLES, *COMMANDS])
    parser.add_argument("file", type=Path)
    parser.add_argument("--limit", type=int, help="decode only the first N packets")
    parser.add_argument("--checkpoint", type=int, default=0, help="also sum the first N rows")
    args = parser.parse_args()
    print(json.dumps(measure(args.path, args.file, args.limit, args.checkpoint)))


if __name__ == "__main__":
    main()
