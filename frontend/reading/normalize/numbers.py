"""Cardinals, ordinals, fractions, ranges, ratios and scores, numbers joined to letters."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import (
    DATE_CONTEXT,
    FRACTION_GLYPHS,
    FRACTION_IDIOMS,
    FRACTION_NAMES,
    MEASURE_NOUNS,
    MONTHS,
    PERIOD_DETERMINERS,
)
from frontend.reading.normalize.spoken import (
    CLOCK,
    CURRENCY,
    NUMBER,
    Rule,
    cardinal,
    decimal,
    digits,
    ordinal,
    paired,
    words_after,
    words_before,
)
from frontend.reading.normalize.units import UNIT, with_unit


def _ordinal(match: re.Match) -> str:
    number = match.group("number").replace(",", "")
    return ordinal(int(number)) if len(number) <= 15 else digits(number)


def _fraction_glyph(match: re.Match) -> str:
    whole = match.group("whole")
    fraction = FRACTION_GLYPHS[match.group("glyph")]
    return f"{whole} {fraction}" if whole else fraction


def fraction_name(numerator: int, denominator: int) -> str:
    singular, plural = FRACTION_NAMES.get(denominator, (ordinal(denominator), ordinal(denominator) + "s"))
    name = singular if numerator == 1 else plural
    return name.removeprefix("one ")  # "hundredths", not "one hundredths"


def _mixed_number(match: re.Match) -> str:
    numerator, denominator = int(match.group("num")), int(match.group("den"))
    if not 0 < numerator < denominator:
        return match.group(0)
    name = fraction_name(numerator, denominator)
    count = ("an" if name[0] in "aeiou" else "a") if numerator == 1 else cardinal(numerator)
    return with_unit(f"{cardinal(int(match.group('whole')))} and {count} {name}", match, plural=True)


def _fraction(match: re.Match) -> str:
    numerator, denominator = int(match.group("num")), int(match.group("den"))
    return with_unit(spoken_fraction(match, numerator, denominator), match, plural=numerator > denominator)


def spoken_fraction(match: re.Match, numerator: int, denominator: int) -> str:
    written = f"{match.group('num')}/{match.group('den')}"
    if written in FRACTION_IDIOMS:
        return FRACTION_IDIOMS[written]
    previous = words_before(match, 1)
    if (previous and previous[0].lower().rstrip(",") in DATE_CONTEXT and 1 <= numerator <= 12 and 1 <= denominator <= 31
            and not share_of(match, numerator, denominator) and not measures(match)):
        return f"{MONTHS[numerator - 1]} {ordinal(denominator)}"
    if denominator == 0:
        return f"{cardinal(numerator)} over zero"
    return f"{cardinal(numerator)} {fraction_name(numerator, denominator)}"


def share_of(match: re.Match, numerator: int, denominator: int) -> bool:
    """Whether a proper fraction is a share of what follows 'of' ('on 3/4 of an acre'), not a date of a period
    ('on 11/15 of last year')."""
    following = [word.lower() for word in words_after(match, 2)]
    return numerator < denominator and following[:1] == ["of"] and following[1:2] != [] and (
        following[1] not in PERIOD_DETERMINERS and not following[1][:1].isdigit())


def measures(match: re.Match) -> bool:
    """Whether a fraction measures something: a unit written with it ('on 1/2 lb') or a measure noun after it
    ('on 1/4 acre', 'by 1/2 inch'), never a date then."""
    following = (words_after(match, 1) or [""])[0].lower().rstrip(".,;:!?")
    return bool(match.group("unit")) or following in MEASURE_NOUNS


def _range(match: re.Match) -> str:
    first_symbol, second_symbol = match.group("symbol") or "", match.group("symbol2") or ""
    percent = match.group("percent") or ""  # "5.25%–5.5%"
    return f"{first_symbol}{match.group('a')}{percent} to {second_symbol or first_symbol}{match.group('b')}"


def _number_with_letters(match: re.Match) -> str:
    return f"{decimal(match.group('number'))} {' '.join(match.group('letters'))}"


def _ratio(match: re.Match) -> str:
    first, second = match.groupdict().get("a") or match.group("h"), match.groupdict().get("b") or match.group("min")
    return FRACTION_IDIOMS.get(f"{first}/{second}") or f"{first} to {second}"  # "50:50" is fifty-fifty too


def _letters_and_number(match: re.Match) -> str:
    """'COVID-19', 'p99'; a model's capitals before three or four digits are read in pairs: 'A320' A three twenty,
    'F-150' F one fifty."""
    written_letters, number = match.group("letters"), match.group("number")
    if written_letters.isupper() and len(number) >= 3 and not number.startswith("0"):
        return f"{written_letters} {paired(number)}"
    return f"{written_letters} {number}"


def _batting_average(match: re.Match) -> str:
    return paired(match.group("thousandths"))


def _number(match: re.Match) -> str:
    sign = "minus " if match.group("sign") else ""
    return sign + decimal(match.group("number"))


NUMBER_RANGE: Rule = (
    re.compile(rf"(?<![\w.,/:–-])(?P<symbol>{CURRENCY})?(?P<a>{CLOCK}|{NUMBER})(?P<percent>%)?(?:-|\s?[–—]\s?)"
                rf"(?P<symbol2>{CURRENCY})?(?!0\d)(?P<b>{CLOCK}|{NUMBER})(?![\d:/–-]|[.,]\d)"), _range)


RATIO_OR_SCORE: Rule = (re.compile(r"\b(?P<a>\d{1,3}):(?P<b>\d{1,3})\b(?!:)"), _ratio)


FRACTION_GLYPH: Rule = (
    re.compile(r"(?:(?<!\d)(?P<whole>\d+)\s?)?(?P<glyph>[" + "".join(FRACTION_GLYPHS) + "])"), _fraction_glyph)


MIXED_NUMBER: Rule = (
    re.compile(rf"\b(?P<whole>\d{{1,3}})\s(?P<num>\d{{1,2}})/(?P<den>\d{{1,2}})\b(?!/)(?:\s?{UNIT})?"), _mixed_number)


FRACTION_SLASH: Rule = (
    re.compile(rf"\b(?P<num>\d{{1,3}})/(?P<den>\d{{1,3}})\b(?:\s?{UNIT})?"), _fraction)


ORDINAL_NUMBER: Rule = (
    re.compile(r"\b(?P<number>\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", re.I), _ordinal)


LETTERS_AND_NUMBER: Rule = (
    re.compile(r"\b(?P<letters>[A-Za-z]{1,6})-?(?P<number>\d{1,4})\b(?![.,-]\d)"), _letters_and_number)


NUMBER_WITH_LETTERS: Rule = (
    re.compile(r"(?<![\w.,])(?P<number>\d+)(?P<letters>[A-Z]{1,3})\b"), _number_with_letters)


PLAIN_NUMBER: Rule = (re.compile(rf"(?<![\w-])(?P<sign>-)?(?P<number>{NUMBER})\b"), _number)


BATTING_AVERAGE: Rule = (
    re.compile(r"(?<![\w.])\.(?P<thousandths>\d{3})(?=\s(?:batting\s|slugging\s)?(?:average|avg)\b)"), _batting_average)
