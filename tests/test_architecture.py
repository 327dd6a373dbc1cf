"""The package's shape: imports run one way, with no cycle (lazy and TYPE_CHECKING ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

import headerkit

PACKAGE = Path(headerkit.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every headerkit module each module imports, wherever the import statement stands."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                base = node.module
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in modules else base)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules (package ``__init__`` files left out), if any."""
    graph = {m: {t for t in ts if t != "headerkit"} for m, ts in graph.items() if m != "headerkit"}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in graph.get(node, ()) and nxt.startswith(node + "."):
                continue  # a package importing its own submodules is how packages re-export
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    assert _cycle(_imports()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": set()}
    assert _cycle(graph) == ["a.x", "a.y", "a.z", "a.x"]


# The layers, lowest first: a module may import from its own layer's package and from lower
# layers only (the README's architecture section lists them in this order).
LAYERS = [
    {"errors", "words"},
    {"schemas", "seqnum", "framing", "tcp_states", "ports"},
    {"packet"},
    {"captures"},
    {"interop", "flows"},
    {"tables", "sim"},
    {"replay"},
    {"plots", "packetdrill"},
    {"cli"},
    {"__main__"},
]


def _part(module: str) -> str:
    """The top-level package or module of ``headerkit`` a module belongs to."""
    return module.split(".")[1] if "." in module else module


def test_imports_run_down_the_layers() -> None:
    rank = {name: level for level, names in enumerate(LAYERS) for name in names}
    upward = []
    for module, targets in _imports().items():
        if module == "headerkit":
            continue  # the package re-exports the public API from every layer
        for target in targets:
            a, b = _part(module), _part(target)
            if a != b and b != "headerkit" and rank[b] >= rank[a]:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(m) for m in _imports() if m != "headerkit"}
    assert parts <= {name for names in LAYERS for name in names}


def test_every_exception_is_declared_in_errors_and_rooted_at_headerkit_error() -> None:
    from headerkit import errors

    elsewhere = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id.endswith(("Error", "Exception", "Warning"))
                for b in node.bases
            ):
                elsewhere.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert elsewhere == []
    declared = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ]
    assert len(declared) >= 20
    assert all(issubclass(cls, errors.HeaderkitError) for cls in declared)
