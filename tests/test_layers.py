"""The frontend's three layers import only downward (api -> synthesis -> reading -> kokoro_core.contract), the
reading layer works without the web stack, and no module imports a `__main__`."""
import ast
import subprocess
import sys

import pytest

from tests.helpers import ROOT

LAYERS = ("reading", "synthesis", "api")  # bottom to top
# Modules of frontend's root that every layer may import: they import no layer themselves.
SHARED = {"frontend.errors", "frontend.settings"}
PRODUCT = ("kokoro_core", "model_repository", "model_repository_gpu", "model_repository_torch", "export",
           "frontend", "serving", "bench", "tests")


def imported_modules(source: str) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return modules


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[0] == "frontend" and parts[1] in LAYERS else None


def upward_imports(module: str, source: str) -> list[str]:
    """The imports of `module` that reach a layer above its own, or, from a shared module, any layer."""
    own = layer_of(module)
    found = []
    for name in imported_modules(source):
        target = layer_of(name)
        if target is None:
            continue
        if (own is None and module in SHARED) or (own is not None and target > own):
            found.append(f"{module} imports {name}")
    return found


def frontend_modules():
    for path in sorted((ROOT / "frontend").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield module, path.read_text(encoding="utf-8")


def test_every_module_of_the_frontend_is_in_a_layer_or_shared():
    doors = {"frontend", "frontend.__main__"}
    loose = [m for m, _ in frontend_modules() if layer_of(m) is None and m not in SHARED | doors]
    assert loose == []


@pytest.mark.parametrize("module,source", list(frontend_modules()), ids=lambda v: v if "\n" not in v else "")
def test_imports_only_go_down(module, source):
    assert upward_imports(module, source) == []


def test_an_upward_import_is_found():
    assert upward_imports("frontend.reading.chunks", "from frontend.synthesis.audio import FORMATS\n") == [
        "frontend.reading.chunks imports frontend.synthesis.audio",
        "frontend.reading.chunks imports frontend.synthesis.audio.FORMATS"]
    assert upward_imports("frontend.synthesis.service", "from frontend.api import schemas\n") == [
        "frontend.synthesis.service imports frontend.api", "frontend.synthesis.service imports frontend.api.schemas"]
    assert upward_imports("frontend.errors", "import frontend.reading.text\n") == [
        "frontend.errors imports frontend.reading.text"]
    assert upward_imports("frontend.api.app", "from frontend.reading import text\n") == []


def test_text_is_read_without_the_web_stack():
    """With FastAPI and Starlette unimportable, the reading layer still imports and reads text."""
    code = ("import sys; sys.modules.update(fastapi=None, starlette=None, uvicorn=None)\n"
            "from frontend.reading.normalize import normalize\n"
            "from frontend.reading import captions, chunks, languages, phonemes, ssml, text, timing\n"
            "print(normalize('$12.50'))\n"
            "assert not [m for m in sys.modules if m.startswith(('fastapi', 'starlette')) and sys.modules[m]]\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "twelve dollars and fifty cents"


def test_the_check_sees_fastapi_hidden():
    code = "import sys; sys.modules.update(fastapi=None); import frontend.api.app"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "fastapi" in result.stderr


def test_no_module_imports_a_main():
    importers = [f"{path.relative_to(ROOT)}: {name}" for part in PRODUCT for path in sorted((ROOT / part).rglob("*.py"))
                 for name in imported_modules(path.read_text(encoding="utf-8")) if "__main__" in name.split(".")]
    assert importers == []
