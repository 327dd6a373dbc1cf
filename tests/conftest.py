"""Shared test fixtures: paths to the repo's own captures and the shared tshark corpus."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from headerkit.errors import HeaderkitWarning

# CI machines are shared: judge generated inputs by what they find, never by how fast they
# were made or run.
settings.register_profile(
    "headerkit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("headerkit")

ROOT = Path(__file__).resolve().parents[1]
PCAPS = ROOT / "pcaps"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real captures with tshark's fields; skips (saying why) if absent."""
    if not (CORPUS / "pcaps").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it sits beside the checkout in CI)")
    return CORPUS


def load_compare(corpus: Path) -> ModuleType:
    """The corpus's compare.py, which scores a decoder against the tshark oracle."""
    spec = importlib.util.spec_from_file_location("compare", corpus / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_tshark_reads_the_same(path: Path, blob: bytes) -> None:
    """Write ``blob`` to ``path``: headerkit's reader and tshark's see the same records."""
    from headerkit.captures import read_capture

    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    path.write_bytes(blob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = [(len(r.data), r.wirelen) for r in read_capture(path)]
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.cap_len", "-e", "frame.len"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert mine == [(int(c), int(w)) for c, w in (line.split("\t") for line in out.splitlines())]


def read(blob: bytes, *, strict: bool = False) -> tuple[list[Any], Any]:
    """The records of a capture held in memory, and the reader (for its ``damage``)."""
    from headerkit.captures import read_capture

    reader = read_capture(io.BytesIO(blob), strict=strict)
    return list(reader), reader


def assert_damage(
    blob: bytes, kind: type[Exception], field: str, offset: int, whole: int, *, layer: str
) -> None:
    """Leniently: ``whole`` records, then ``reader.damage`` and a warning; strictly: raised."""
    with pytest.warns(HeaderkitWarning) as warned:
        records, reader = read(blob)
    assert len(records) == whole
    damage = reader.damage
    assert type(damage) is kind
    assert (damage.layer, damage.field, damage.offset) == (layer, field, offset)
    assert [str(w.message) for w in warned] == [str(damage)]
    with pytest.raises(kind) as raised:
        read(blob, strict=True)
    assert (raised.value.field, raised.value.offset) == (field, offset)  # type: ignore[attr-defined]


def handshake() -> list[Any]:
    """A three-way handshake (window scale 7 and 2 announced) as crafted packets."""
    from headerkit import craft

    reply = {"src": "10.0.0.2", "dst": "10.0.0.1", "sport": 80, "dport": 40000}
    return [
        craft.tcp(sport=40000, dport=80, seq=1000, flags="S", wscale=7),
        craft.tcp(**reply, seq=5000, ack=1001, flags="SA", wscale=2),
        craft.tcp(sport=40000, dport=80, seq=1001, ack=5001, flags="A", window=100),
    ]
