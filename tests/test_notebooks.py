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


def test_there_are_five_notebooks() -> None:
    assert [s.stem for s in SOURCES] == [
        "01-header-anatomy",
        "02-capture-table",
        "03-boundaries",
        "04-flow-control",
        "05-crafting",
    ]
