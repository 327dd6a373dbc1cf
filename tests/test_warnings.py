"""One channel for warnings: the library warns with HeaderkitWarning; the CLI prints each
warning once, as one ``headerkit: warning:`` line without a source path."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from headerkit import craft
from headerkit.captures import read_capture
from headerkit.errors import HeaderkitError, HeaderkitWarning
from tests.conftest import handshake


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A pcapng whose last block is cut short: three whole packets, then damage."""
    whole = tmp_path / "whole.pcapng"
    craft.write(whole, handshake())
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(whole.read_bytes()[:-7])
    return cut


def test_the_library_warns_with_its_own_category(damaged: Path) -> None:
    with pytest.warns(HeaderkitWarning, match="pcapng"):
        records = list(read_capture(damaged))
    assert len(records) == 2


def test_warnings_escalate_in_the_usual_way(damaged: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeaderkitWarning)
        with pytest.raises(HeaderkitError, match="pcapng"):
            list(read_capture(io.BytesIO(damaged.read_bytes())))


@pytest.mark.parametrize(
    "command",
    [["decode"], ["flows"], ["follow", "--stream", "0"], ["decode", "--format", "jsonl"]],
)
def test_the_cli_shows_each_warning_once_without_a_source_path(
    damaged: Path, command: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "headerkit", *command, str(damaged)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stderr.splitlines()
    warned = [line for line in lines if line.startswith("headerkit: warning: ")]
    assert len(warned) == 1, done.stderr
    assert "pcapng" in warned[0]
    assert ".py:" not in done.stderr and "UserWarning" not in done.stderr
    assert "Traceback" not in done.stderr
