"""The shared facts are defined once, in kokoro_core/contract.py: no other module of the product assigns one of
its names or writes one of its distinctive numbers or file names as a literal."""
import ast
import io
import subprocess
import sys
import tokenize

import pytest

from kokoro_core import contract
from tests.helpers import ROOT

CONTRACT = ROOT / "kokoro_core" / "contract.py"
PRODUCT = sorted(path for part in ("kokoro_core", "model_repository", "export", "frontend", "serving", "bench")
                 for path in (ROOT / part).rglob("*.py") if path != CONTRACT)
NAMES = {name for name in vars(contract) if name.isupper()}
NUMBERS = {contract.SAMPLE_RATE, contract.SAMPLES_PER_FRAME, contract.MAX_PHONEMES}
STRINGS = {contract.TEXT_GRAPH, contract.DECODER_GRAPH, contract.CURVES_GRAPH, contract.INT8_VOCODER,
           contract.PROVENANCE, contract.ASSETS}
# (file, line) where one of those numbers means something else.
OTHER_MEANINGS = {
    ("frontend/synthesis/audio.py",
     'MPEG_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # what MP3 and AAC define'),
    ("frontend/synthesis/audio.py",
     '"opus": Format("ogg", "libopus", "audio/ogg", "s16", (8000, 12000, 16000, 24000, 48000), bit_rate=32000),'),
    ("bench/load.py", "timeout_s: float = 600) -> tuple[list[Outcome], float]:"),
}


def literals(source: str):
    """(kind, value, line) of each number and string literal in the source."""
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NUMBER:
            yield "number", ast.literal_eval(token.string), lines[token.start[0] - 1].strip()
        elif token.type == tokenize.STRING:
            try:
                yield "string", ast.literal_eval(token.string), lines[token.start[0] - 1].strip()
            except ValueError:  # an f-string's pieces
                continue


def stray_literals(source: str, where: str) -> list[str]:
    found = []
    for kind, value, line in literals(source):
        stray = value in NUMBERS if kind == "number" else isinstance(value, str) and value in STRINGS
        if stray and (where, line) not in OTHER_MEANINGS:
            found.append(f"{where}: {value!r} in `{line}`")
    return found


def redefinitions(source: str, where: str) -> list[str]:
    """Module-level assignments to a contract name."""
    tree = ast.parse(source)
    targets = [target for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
               for target in (node.targets if isinstance(node, ast.Assign) else [node.target])]
    elements = [element for target in targets
                for element in (target.elts if isinstance(target, ast.Tuple) else [target])]
    names = [element.id for element in elements if isinstance(element, ast.Name)]
    return [f"{where}: {name}" for name in names if name in NAMES]


def test_the_product_is_scanned():
    scanned = {path.relative_to(ROOT).as_posix() for path in PRODUCT}
    assert {"model_repository/kokoro/1/model.py", "kokoro_core/batching.py", "frontend/synthesis/audio.py"} <= scanned


@pytest.mark.parametrize("path", PRODUCT, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_copy_of_the_contract(path):
    source, where = path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()
    assert stray_literals(source, where) + redefinitions(source, where) == []


def test_a_copy_is_found():
    """Each kind of copy, and a number allowed on one line but not on another."""
    source = f'RATE = 24000\nMAX_PHONEMES = 5\nGRAPH = "{contract.TEXT_GRAPH}"\ntimeout_s: float = 600\n'
    assert stray_literals(source, "bench/load.py") == [
        "bench/load.py: 24000 in `RATE = 24000`",
        f"bench/load.py: '{contract.TEXT_GRAPH}' in `GRAPH = \"{contract.TEXT_GRAPH}\"`",
        "bench/load.py: 600 in `timeout_s: float = 600`"]
    assert redefinitions(source, "bench/load.py") == ["bench/load.py: MAX_PHONEMES"]


def test_style_row_is_row_n_minus_one_within_the_pack():
    assert [contract.style_row(n) for n in (0, 1, 37, contract.MAX_PHONEMES, contract.MAX_PHONEMES + 9)] == \
        [0, 0, 36, contract.MAX_PHONEMES - 1, contract.MAX_PHONEMES - 1]


def test_the_frontend_needs_only_the_contract_of_the_core():
    """Its container copies kokoro_core/contract.py alone (docker/frontend.Dockerfile)."""
    code = "import sys, frontend.api.app; print(sorted(m for m in sys.modules if m.startswith('kokoro_core')))"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert imported.stdout.split() == ["['kokoro_core',", "'kokoro_core.contract']"]
