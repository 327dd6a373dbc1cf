"""The simulator compiled with mypyc (``setup.py``) behaves exactly as its Python source:
every built-in scenario and variant, under both profiles, gives the same trace and the same
pcap export, byte for byte, whether run compiled here or interpreted from a copy of the
sources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import COMPILED, ROOT, built

# Prints one digest line per run; ``compiled`` says where the engine came from.
DIGESTS = """
import hashlib, pathlib, sys, tempfile
import headerkit.sim.engine as engine
from headerkit.sim import load_scenario, simulate
from headerkit.sim.pcap import write_pcap
from headerkit.sim.scenario import builtin_names, variants
print("compiled" if engine.__file__.endswith(".so") else "interpreted")
capture = pathlib.Path(tempfile.mkdtemp()) / "run.pcap"
for name in builtin_names():
    for variant in [None, *variants(name)]:
        for profile in ("rfc", "linux"):
            result = simulate(load_scenario(name, variant, profile))
            text = "\\n".join(
                f"{e.time} {e.side} {e.kind.value} {e.text!r} {e.view} {e.packet!r}"
                for e in result.entries
            )
            text += repr((result.streams, result.states, result.paths, result.buffers))
            write_pcap(result, capture)
            text += capture.read_bytes().hex()
            print(name, variant, profile, hashlib.sha256(text.encode()).hexdigest())
"""


def _digests(pythonpath: Path, cwd: Path) -> list[str]:
    env = os.environ | {"PYTHONPATH": str(pythonpath), "PYTHONHASHSEED": "0"}
    run = subprocess.run(
        [sys.executable, "-c", DIGESTS], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.splitlines()


def test_the_simulator_is_compiled_where_it_was_built() -> None:
    """Every listed module has its extension beside it (``make setup`` builds them); the
    benchmark's figures are the compiled simulator's."""
    if os.environ.get("HEADERKIT_PURE"):
        assert not any(built(ROOT / source) for source in COMPILED)
    else:
        missing = [source for source in COMPILED if not built(ROOT / source)]
        assert not missing, f"not compiled: {missing} (run make setup)"


def test_compiled_and_interpreted_simulations_are_identical(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT / "headerkit", source / "headerkit", ignore=shutil.ignore_patterns("*.so"))
    interpreted = _digests(source, tmp_path)
    compiled = _digests(ROOT, ROOT)
    assert interpreted[0] == "interpreted"
    assert compiled[0] == ("interpreted" if os.environ.get("HEADERKIT_PURE") else "compiled")
    assert len(interpreted) > 80  # 40 scenarios and variants, two profiles each
    assert interpreted[1:] == compiled[1:]
    # and the runs differ among themselves: the digest sees what a run did
    assert len({line.split()[-1] for line in compiled[1:]}) > 60
