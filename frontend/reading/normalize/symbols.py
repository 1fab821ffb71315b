"""Symbols: math and comparison signs, superscript powers, approximately, optional plurals ("file(s)") and the
symbols left after every other rule ("&", "#")."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import COMPARISONS, SUPERSCRIPTS, SYMBOLS
from frontend.reading.normalize.spoken import Rule


def _symbol(match: re.Match) -> str:
    return SYMBOLS[match.group(0)]


def _optional_plural(match: re.Match) -> str:
    """'file(s)' is read as its plural, 'files', which covers the one too."""
    return match.group(0)[1]


def _comparison(match: re.Match) -> str:
    return COMPARISONS[match.group(0)]


def _approximately(match: re.Match) -> str:
    return "about "


def _superscript(match: re.Match) -> str:
    """'x²' x squared, '2³' two cubed, '10⁶' ten to the sixth."""
    return f" {SUPERSCRIPTS[match.group(0)]}"


OPTIONAL_PLURAL: Rule = (re.compile(r"(?<=[A-Za-z])\([sS]\)(?!\w)"), _optional_plural)
APPROXIMATELY: Rule = (re.compile(r"(?<![\w~])~\s?(?=[\d$€£¥₹])"), _approximately)  # "~20": about twenty
COMPARISON: Rule = (re.compile(r"(?<=\s)[<>*](?=\s)"), _comparison)  # "5 < 7", "5 * 4"; not "<b>" or "*bold*"
SUPERSCRIPT: Rule = (re.compile(r"(?<=[\w)])[²³⁰¹⁴⁵⁶⁷⁸⁹]"), _superscript)
LEFTOVER_SYMBOL: Rule = (re.compile("[" + re.escape("".join(SYMBOLS)) + "]"), _symbol)
