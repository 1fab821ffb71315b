"""`python -m` doors stay thin: a package's `__main__.py` only calls the module that holds its work, and nothing
imports a `__main__` (a pipeline a test or another package needs lives in a module of its own)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", ".git", "build", "results", "node_modules"}
MAX_DOOR_STATEMENTS = 4  # docstring, `import sys`, the one import of the work, the `if __name__` guard


def sources() -> list[Path]:
    return sorted(path for path in ROOT.rglob("*.py")
                  if not SKIPPED & set(path.relative_to(ROOT).parts) and not path.name.startswith("."))


def main_imports(source: str) -> list[str]:
    """The `__main__` modules `source` imports (by any spelling: from-import or import)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name.split(".")[-1] == "__main__"]
    return found


def test_nothing_imports_a_main_module():
    found = [f"{path.relative_to(ROOT)}: {name}" for path in sources()
             for name in main_imports(path.read_text(encoding="utf-8"))]
    assert found == []


def test_main_imports_are_found():
    assert main_imports("from export.__main__ import main\nimport bench.__main__\nfrom bench import __main__\n"
                        "from export.pipeline import main\n") == ["export.__main__", "bench.__main__", "bench.__main__"]


def test_export_and_bench_doors_are_thin():
    for package in ("export", "bench"):
        tree = ast.parse((ROOT / package / "__main__.py").read_text(encoding="utf-8"))
        assert len(tree.body) <= MAX_DOOR_STATEMENTS, f"{package}/__main__.py holds more than a door"
        assert not any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) for node in tree.body), package
