"""The documentation stays true to the tree: the settings table is the generated one, every relative link and
anchor resolves, and every `make` target the README names exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from serving.settings import settings_tables

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "bench" / "NOTES.md", *sorted((ROOT / "docs").glob("*.md"))]
GENERATED = re.compile(r"<!-- generated: python -m serving.settings -->\n(.*?)\n<!-- end generated -->", re.S)
FENCE = re.compile(r"```.*?```", re.S)
CODE = re.compile(FENCE.pattern + r"|`[^`\n]*`", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+ (.+)$", re.M)


def prose(page: Path) -> str:
    """The page without its code, where `[x](y)` is an example rather than a link."""
    return CODE.sub("", page.read_text())


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(heading) for heading in HEADING.findall(FENCE.sub("", page.read_text()))}


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (fragment and linked.suffix == ".md" and fragment not in anchors(linked)):
            broken.append(target)
    return broken


def test_settings_table_is_the_generated_one():
    block = GENERATED.search((ROOT / "docs" / "settings.md").read_text())
    assert block, "docs/settings.md has lost its generated block"
    assert block.group(1) == settings_tables(), "run `python -m serving.settings` and paste its tables"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert broken_links(page) == []


def test_readme_links_every_docs_page():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in LINK.findall(prose(ROOT / "README.md"))}
    assert {page for page in PAGES if page.parent.name == "docs"} <= linked


def test_make_targets_named_in_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    code = " ".join(CODE.findall((ROOT / "README.md").read_text()))
    named = set(re.findall(r"(?<![\w-])make ([a-z][\w-]*)", code))
    assert named, "the README names no make target"
    assert named - targets == set()
