"""Leftover symbols and optional plurals ("file(s)")."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import SYMBOLS
from frontend.reading.normalize.spoken import Rule


def _symbol(match: re.Match) -> str:
    return SYMBOLS[match.group(0)]


def _optional_plural(match: re.Match) -> str:
    """'file(s)' is read as its plural, 'files', which covers the one too."""
    return match.group(0)[1]


OPTIONAL_PLURAL: Rule = (re.compile(r"(?<=[A-Za-z])\([sS]\)(?!\w)"), _optional_plural)


LEFTOVER_SYMBOL: Rule = (re.compile(r"[&@+=#%©]"), _symbol)
