"""The README's console and ``>>>`` examples run, their output compared, so they cannot drift.

A console block is a series of ``$ command`` lines, each followed by the output it prints. A
line ``...`` in the expected output stands for any number of lines; ``...`` inside a line for
any text. Commands on real sockets (``experiment``, ``capture``) print times, ports and
sequence numbers that change from run to run: there, numbers are masked before comparing.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"
LIVE = ("experiment", "capture")
_NUMBER = re.compile(r"\d+(\.\d+)?")


def _blocks(kind: str) -> list[tuple[int, str]]:
    """``(line number, text)`` of every fenced block of ``kind`` in the README."""
    found, lines = [], README.read_text().splitlines()
    start: int | None = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == f"```{kind}":
            start = number
        elif start is not None and line.strip() == "```":
            found.append((start, "\n".join(lines[start : number - 1])))
            start = None
    return found


def _commands(block: str) -> list[tuple[str, list[str]]]:
    """The block's commands, each with the lines it is expected to print."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def matches(expected: list[str], actual: list[str], *, masked: bool = False) -> bool:
    """True when ``actual`` is ``expected`` with each ``...`` line standing for any lines."""
    if masked:
        expected = [_NUMBER.sub("N", line) for line in expected]
        actual = [_NUMBER.sub("N", line) for line in actual]

    def line_ok(want: str, got: str) -> bool:
        parts = [re.escape(p) for p in want.rstrip().split("...")]
        return re.fullmatch(".*?".join(parts), got.rstrip()) is not None

    # dynamic programming over (expected index, actual index): linear in the product
    reach = {(0, 0)}
    for i, want in enumerate(expected):
        nxt: set[tuple[int, int]] = set()
        for _, j in (p for p in reach if p[0] == i):
            if want.strip() == "...":
                nxt.update((i + 1, k) for k in range(j, len(actual) + 1))
            elif j < len(actual) and line_ok(want, actual[j]):
                nxt.add((i + 1, j + 1))
        reach = nxt
    return (len(expected), len(actual)) in reach


def test_the_matcher_is_strict_about_dropped_lines() -> None:
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "x ... z"], ["a", "x y z"])
    assert not matches(["a", "d"], ["a", "b", "d"])  # a line dropped without "..."
    assert not matches(["a", "b"], ["a", "c"])
    assert matches(["t=1.5 port 4000"], ["t=2.25 port 51234"], masked=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the README's relative paths (``pcaps/``, ``../shared``) resolve and
    files the examples write land outside the checkout."""
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"the README's examples read {SHARED / 'corpus'}, which is absent")
    base = tmp_path_factory.mktemp("readme")
    (base / "shared").symlink_to(SHARED)
    work = base / "work"
    work.mkdir()
    for name in ("pcaps", "docs", "benchmarks", "tests"):
        (work / name).symlink_to(ROOT / name)
    return work


CONSOLE = [
    pytest.param(command, expected, id=f"L{line}:{command[:40]}")
    for line, block in _blocks("console")
    for command, expected in _commands(block)
]


@pytest.mark.parametrize(("command", "expected"), CONSOLE)
def test_console_example(workdir: Path, command: str, expected: list[str]) -> None:
    command = command.removeprefix("sudo ")  # the tests run as root, as CI does
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["COLUMNS"] = "200"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    actual = (done.stdout + done.stderr).splitlines()
    live = any(word in shlex.split(command)[:2] for word in LIVE)
    assert matches(expected, actual, masked=live), "\n".join(["got:", *actual])


PYTHON = [pytest.param(text, id=f"L{line}") for line, text in _blocks("python")]


@pytest.mark.parametrize("text", PYTHON)
def test_python_example(workdir: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import headerkit

    monkeypatch.chdir(workdir)
    test = doctest.DocTestParser().get_doctest(text, {"headerkit": headerkit}, "README", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
