"""Shared test fixtures: paths to the repo's own captures and the shared tshark corpus."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import tomllib
import warnings
from collections.abc import Iterable
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
# the modules setup.py compiles with mypyc
COMPILED = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["headerkit"]["compiled"]


def built(source: Path) -> list[Path]:
    """The extension modules compiled from ``source`` (none in a pure-Python install)."""
    return list(source.parent.glob(f"{source.stem}.cpython-*.so"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test compiled modules older than their sources: Python would import them in
    place of the edited code."""
    stale = [
        source
        for source in COMPILED
        if any(so.stat().st_mtime < (ROOT / source).stat().st_mtime for so in built(ROOT / source))
    ]
    if stale:
        pytest.exit(f"compiled before their last edit: {', '.join(stale)}; run make setup", 2)


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
    """Write ``blob`` to ``path``: headerkit's reader gives every record tshark reads, in the
    same order; past damage where tshark stops, headerkit also keeps the intact records
    that follow (having reported the damage)."""
    from headerkit.captures import read_capture

    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    path.write_bytes(blob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = read_capture(path)
        mine = [(len(r.data), r.wirelen) for r in reader]
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.cap_len", "-e", "frame.len"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    theirs = [(int(c), int(w)) for c, w in (line.split("\t") for line in out.splitlines())]
    assert mine[: len(theirs)] == theirs
    assert len(mine) == len(theirs) or reader.damage is not None


def read(blob: bytes, *, strict: bool = False) -> tuple[list[Any], Any]:
    """The records of a capture held in memory, and the reader (for its ``damage``)."""
    from headerkit.captures import read_capture

    reader = read_capture(io.BytesIO(blob), strict=strict)
    return list(reader), reader


def assert_damage(
    blob: bytes,
    kind: type[Exception],
    field: str,
    offset: int,
    whole: int,
    *,
    layer: str,
    kept: int | None = None,
) -> None:
    """Leniently: ``whole`` records before the damage, ``kept`` in all (the intact ones read
    past it; ``whole`` when nothing follows), the damage reported and warned; strictly:
    raised after ``whole`` records."""
    with pytest.warns(HeaderkitWarning) as warned:
        records, reader = read(blob)
    assert len(records) == (whole if kept is None else kept)
    first = str(warned[0].message)
    assert f"{layer}.{field} at byte {offset}:" in first
    assert reader.damage is not None
    with pytest.raises(kind) as raised:
        read(blob, strict=True)
    assert (raised.value.field, raised.value.offset) == (field, offset)  # type: ignore[attr-defined]
    assert type(raised.value) is kind


def handshake() -> list[Any]:
    """A three-way handshake (window scale 7 and 2 announced) as crafted packets."""
    from headerkit import craft

    reply = {"src": "10.0.0.2", "dst": "10.0.0.1", "sport": 80, "dport": 40000}
    return [
        craft.tcp(sport=40000, dport=80, seq=1000, flags="S", wscale=7),
        craft.tcp(**reply, seq=5000, ack=1001, flags="SA", wscale=2),
        craft.tcp(sport=40000, dport=80, seq=1001, ack=5001, flags="A", window=100),
    ]


def tshark_rows(path: Path, fields: list[str], *options: str) -> list[dict[str, str]]:
    """tshark's ``fields`` for each frame of ``path`` (its default preferences, plus
    ``options``), skipping the test where tshark is absent."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark not found (CI installs it)")
    command = ["tshark", "-n", "-r", str(path), *options, "-T", "fields"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in out.splitlines()]


def headerkit_rows(packets: Iterable[Any], fields: list[str]) -> list[dict[str, str]]:
    """The same fields from headerkit's :func:`tshark_fields`, as text."""
    from headerkit.tables.tshark import tshark_fields

    rows = []
    for pkt in packets:
        found = tshark_fields(pkt)
        rows.append({name: str(found[name]) if name in found else "" for name in fields})
    return rows
