"""Shared test fixtures: paths to the repo's own captures and the shared tshark corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PCAPS = ROOT / "pcaps"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real captures with tshark's fields; skips (saying why) if absent."""
    if not (CORPUS / "pcaps").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it sits beside the checkout in CI)")
    return CORPUS
