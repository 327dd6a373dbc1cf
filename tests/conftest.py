"""Shared test fixtures: paths to the repo's own captures and the shared tshark corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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
