"""The shape of the house, kept by a test: imports run one way, handlers → config → integrations →
dealreg, the core imports nothing outside itself (and no I/O library), and no module imports
another that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("handlers", "config", "integrations", "dealreg")  # each may import only those after it
IO_MODULES = {"os", "sqlite3", "socket", "requests", "gspread", "flask", "subprocess", "urllib.request", "http.client"}


def _modules() -> dict[str, Path]:
    out = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(path: Path) -> set[str]:
    """Every module an import statement in `path` names (at any depth: a lazy import counts)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


MODULES = _modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way(module):
    layer = LAYERS.index(module.split(".")[0])
    for name in _imports(MODULES[module]):
        top = name.split(".")[0]
        if top in LAYERS:
            assert LAYERS.index(top) >= layer, f"{module} imports {name}: against the arrows {' → '.join(LAYERS)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("dealreg")))
def test_the_core_does_no_io(module):
    names = _imports(MODULES[module])
    io = {n for n in names if n in IO_MODULES or n.split(".")[0] in IO_MODULES}
    assert not io, f"{module} imports {io}: the core does no I/O"


def test_no_import_circles():
    graph = {m: {n for n in _imports(p) if n in MODULES and n != m} for m, p in MODULES.items()}
    # a package's __init__ re-exporting its own modules is not a circle
    graph = {m: {n for n in deps if not n.startswith(m + ".")} for m, deps in graph.items()}
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for dep in sorted(graph[module]):
            assert seen.get(dep) != 1, "import circle: " + " → ".join([*path[path.index(dep):], dep])
            if dep not in seen:
                visit(dep, [*path, dep])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
