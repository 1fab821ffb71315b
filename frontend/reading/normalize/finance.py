"""Finance notation: fiscal years and quarters ("FY2024", "Q3 2024"); basis points are a unit (units)."""
from __future__ import annotations

import re

from frontend.reading.normalize.spoken import Rule, cardinal, two_digit_year, year


def _fiscal_year(match: re.Match) -> str:
    written = match.group("year")
    return f"fiscal year {year(int(written)) if len(written) == 4 else two_digit_year(written)}"


def _quarter(match: re.Match) -> str:
    """'Q3 2024' Q three twenty twenty-four, as analysts say it; 'H1' H one."""
    spoken = f"{match.group('period')} {cardinal(int(match.group('number')))}"
    return spoken + (f" {year(int(match.group('year')))}" if match.group("year") else "")


FISCAL_YEAR: Rule = (re.compile(r"\bFY\s?['’]?(?P<year>(?:19|20)\d\d|\d\d)\b"), _fiscal_year)
QUARTER: Rule = (re.compile(r"\b(?P<period>Q(?=[1-4])|H(?=[12]))(?P<number>\d)\b(?:\s(?P<year>(?:19|20)\d\d)\b)?"),
                 _quarter)
