"""Build the notebooks from their sources and run them, saving the outputs.

``python notebooks/build.py`` (or ``make notebooks``) turns each ``notebooks/src/*.py``
(cells separated by ``# %%``, markdown cells by ``# %% [markdown]``) into
``notebooks/<name>.ipynb`` and executes it top to bottom with nbclient, so the committed
notebooks read well on a code host.  ``--check`` runs them without writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
TIMEOUT = 600


def cells(source: str) -> list[nbformat.NotebookNode]:
    """Split a percent-format script into notebook cells."""
    out: list[nbformat.NotebookNode] = []
    kind, lines = "code", []  # type: ignore[var-annotated]

    def flush() -> None:
        text = "\n".join(lines).strip("\n")
        if not text:
            return
        if kind == "markdown":
            text = "\n".join(
                line.removeprefix("# ").removeprefix("#") for line in text.splitlines()
            )
            out.append(nbformat.v4.new_markdown_cell(text))
        else:
            out.append(nbformat.v4.new_code_cell(text))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        else:
            lines.append(line)
    flush()
    return out


def notebook(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells(path.read_text())
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def run(nb: nbformat.NotebookNode) -> None:
    NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--check", action="store_true", help="run without writing")
    args = parser.parse_args()
    sources = sorted((HERE / "src").glob("*.py"))
    if args.names:
        sources = [s for s in sources if s.stem in args.names]
    for src in sources:
        nb = notebook(src)
        run(nb)
        if not args.check:
            target = HERE / f"{src.stem}.ipynb"
            nbformat.write(nb, target)
            print(f"wrote {target.relative_to(HERE.parent)}")
        else:
            print(f"ran {src.stem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
