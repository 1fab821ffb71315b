"""Symbols: math and comparison signs, superscript powers, approximately, optional plurals ("file(s)") and the
symbols left after every other rule ("&", "#")."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import ALWAYS_KEYS, COMPARISONS, KEY_NAMES, KEY_VERBS, SUPERSCRIPTS, SYMBOLS
from frontend.reading.normalize.spoken import Rule, word_after, words_before


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


def _key(match: re.Match) -> str:
    """'Ctrl + C' control plus C, 'Hit Esc' hit escape, 'the Esc key'; 'Del Mar' is no key."""
    key = match.group("key")
    joined = match.group("before") or match.group("after")
    previous = (words_before(match, 1) or [""])[0].lower()
    is_key = key in ALWAYS_KEYS or joined or previous in KEY_VERBS or word_after(match).lower().startswith("key")
    return match.group(0).replace(key, KEY_NAMES[key]) if is_key else match.group(0)


OPTIONAL_PLURAL: Rule = (re.compile(r"(?<=[A-Za-z])\([sS]\)(?!\w)"), _optional_plural)
APPROXIMATELY: Rule = (re.compile(r"(?<![\w~])~\s?(?=[\d$€£¥₹])"), _approximately)  # "~20": about twenty
COMPARISON: Rule = (re.compile(r"(?<=\s)[<>*](?=\s)"), _comparison)  # "5 < 7", "5 * 4"; not "<b>" or "*bold*"
SUPERSCRIPT: Rule = (re.compile(r"(?<=[\w)])[²³⁰¹⁴⁵⁶⁷⁸⁹]"), _superscript)
LEFTOVER_SYMBOL: Rule = (re.compile("[" + re.escape("".join(SYMBOLS)) + "]"), _symbol)
KEY: Rule = (re.compile(r"(?P<before>\+\s?)?\b(?P<key>" + "|".join(KEY_NAMES) + r")\b(?P<after>\s?\+)?"), _key)
