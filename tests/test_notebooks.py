"""The notebooks run top to bottom, and the committed ones match their sources."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from notebooks.build import notebook, run
from tests.conftest import ROOT

SOURCES = sorted((ROOT / "notebooks" / "src").glob("*.py"))
PICTURES = {
    "01-header-anatomy": 2,
    "02-capture-table": 0,
    "03-boundaries": 2,
    "04-flow-control": 1,
    "05-crafting": 0,
    "06-states-and-buffers": 4,
    "07-what-if": 1,
}


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_notebook_runs_and_is_committed_with_outputs(source: Path) -> None:
    committed = nbformat.read(ROOT / "notebooks" / f"{source.stem}.ipynb", as_version=4)
    fresh = notebook(source)
    assert [c.source for c in committed.cells] == [c.source for c in fresh.cells], (
        "notebook out of date: run `make notebooks`"
    )
    assert any(c.get("outputs") for c in committed.cells), "committed without outputs"
    run(fresh)  # raises CellExecutionError on the first failing cell
    outputs = [o for c in fresh.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    pictures = sum("image/png" in o.get("data", {}) for o in outputs)
    assert pictures >= PICTURES[source.stem]


def test_the_notebooks_are_all_there() -> None:
    assert [s.stem for s in SOURCES] == [
        "01-header-anatomy",
        "02-capture-table",
        "03-boundaries",
        "04-flow-control",
        "05-crafting",
        "06-states-and-buffers",
        "07-what-if",
    ]


def test_exercises_hide_the_answer_until_revealed(capsys: pytest.CaptureFixture[str]) -> None:
    from notebooks import exercises

    assert not exercises.check("q", None, 42)
    assert "your turn" in (out := capsys.readouterr().out) and "42" not in out
    assert not exercises.check("q", 41, 42)
    assert "not yet" in (out := capsys.readouterr().out) and "42" not in out
    assert exercises.check("q", 42, 42) and "right" in capsys.readouterr().out
    exercises.reveal()
    try:
        exercises.check("q", None, 42)
        assert "Answer: 42" in capsys.readouterr().out
        exercises.check("q", 41, 42)
        assert "the answer is 42" in capsys.readouterr().out
    finally:
        exercises.reveal(False)


def test_every_notebook_opens_with_its_question_and_ends_with_checked_exercises() -> None:
    for source in SOURCES:
        text = source.read_text()
        assert "**The question:**" in text.split("# %%", 2)[1], source.stem
        assert "## Exercises" in text and "check(" in text, source.stem
        assert text.count("assert ") >= 2, source.stem  # the notebook checks its answers
