"""Amounts with units of measure, heights, scaled numbers (10k), multipliers (3x), "per"."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import (
    ADJECTIVE_UNITS,
    DETERMINERS,
    NOT_NOUNS,
    SCALES,
    SINGULAR_UNITS,
    UNIT_QUALIFIERS,
    UNITS,
)
from frontend.reading.normalize.spoken import (
    NUMBER,
    Rule,
    cardinal,
    decimal,
    describes_noun,
    paired,
    plural_number,
    word_after,
    words_before,
)


def unit_name(written: str) -> str:
    """The plural name of a unit as written ('MW' megawatts, 'mW' milliwatts, 'Km' kilometers)."""
    return UNITS.get(written) or UNITS[re.sub(r"\s+", " ", written.lower().replace(".", ""))]


def with_unit(spoken: str, match: re.Match, plural: bool) -> str:
    """A fraction's spoken form followed by its unit, if one was written ("1/2 tsp", "1 1/2 cups")."""
    unit = match.group("unit")
    if not unit:
        return spoken
    return f"{spoken} {unit_name(unit) if plural else singular_unit(unit_name(unit))}"


def _height(match: re.Match) -> str:
    """'6'2"' -> 'six foot two', as heights are said; '5 ft 10 in' -> 'five feet ten inches' as written."""
    feet, inches = int(match.group("feet")), int(match.group("inches") or 0)
    if match.groupdict().get("written"):
        feet_word, inch_word = "foot" if feet == 1 else "feet", "inch" if inches == 1 else "inches"
        return f"{cardinal(feet)} {feet_word} {cardinal(inches)} {inch_word}"
    joiner = "-" if match.groupdict().get("hyphen") else " "
    return joiner.join([cardinal(feet), "foot"] + ([cardinal(inches)] if inches else []))


def _inches(match: re.Match) -> str:
    """'48" tall' forty-eight inches, 'a 27" monitor' twenty-seven inch: a number with the inch mark alone; a
    quotation's closing mark ('the "Top 10" list': an open quote before it) is left alone."""
    window = match.string[max(0, match.start() - QUOTE_WINDOW):match.start()]
    if match.group("mark") == '"' and len(OPEN_QUOTE.findall(window)) % 2:
        return match.group(0)
    number = match.group("number")
    following = word_after(match).rstrip(".,;:!?").lower()
    determiner = (words_before(match, 1) or [""])[0].lower() in DETERMINERS
    adjective = describes_noun(match) or (determiner and following and following not in NOT_NOUNS)
    unit = "inch" if adjective or number == "1" else "inches"
    return f"{decimal(number)} {unit}"


QUOTE_WINDOW = 200  # characters before an inch mark in which an open quotation is looked for
OPEN_QUOTE = re.compile(r'(?<![\d″])"')  # a quotation mark, not an inch mark after a number


def _unit(match: re.Match) -> str:
    number = match.group("number")
    if match.group(0).endswith("0s") and word_after(match) == "of":  # "1,000s of rows": thousands
        return plural_number(number)
    spoken_unit = unit_name(match.group("unit"))
    if number.replace(",", "") in ("1", "1.0") or match.group("hyphen") or is_adjective(match, spoken_unit):
        spoken_unit = singular_unit(spoken_unit)
    sign = "minus " if match.group("sign") else ""
    return f"{sign}{decimal(number)}{'-' if match.group('hyphen') else ' '}{spoken_unit}"


def is_adjective(match: re.Match, spoken_unit: str) -> bool:
    """Whether an amount describes the noun after it, its unit then singular: 'a 500 mg tablet', '100 W bulb';
    '200 g flour' in a list of ingredients stays plural, as cooks read it. Degrees stay plural."""
    return "degree" not in spoken_unit and describes_noun(match, always=spoken_unit in ADJECTIVE_UNITS)


def _unit_after_power(match: re.Match) -> str:
    """'1.2 × 10³ kg' ... ten cubed kilograms, '3 × 10^8 m/s': a unit after a power of ten, plural, its power left
    to the symbols."""
    return f"{match.group('power')} {unit_name(match.group('unit'))}"


def _dimensions(match: re.Match) -> str:
    """'1920x1080' nineteen twenty by ten eighty (resolutions in pairs); '10 x 20 cm' 10 by 20 cm, its numbers and
    unit left to the rules after."""
    a, b = match.group("a"), match.group("b")
    if max(len(a), len(b)) == 4:  # a resolution: 1280x720, twelve eighty by seven twenty
        a, b = paired(a), paired(b)
    return f"{a} by {b}"


def _resolution(match: re.Match) -> str:
    return f"{paired(match.group('lines'))} p"


def _unit_per_unit(match: re.Match) -> str:
    return f"{match.group('first')} per "


def singular_unit(plural: str) -> str:
    if plural in SINGULAR_UNITS:
        return SINGULAR_UNITS[plural]
    first, _, rest = plural.partition(" ")
    if first in UNIT_QUALIFIERS:
        return f"{first} {singular_unit(rest)}"
    first = SINGULAR_UNITS.get(first, first[:-1] if first.endswith("s") else first)
    return f"{first} {rest}".strip()


def _scaled_number(match: re.Match) -> str:
    sign = "minus " if match.group("sign") else ""
    return f"{sign}{decimal(match.group('number'))} {SCALES[match.group('scale').lower()]}"


def _per(match: re.Match) -> str:
    return f" per {PER_NAMES.get(match.group('per'), match.group('per'))}"


PER_NAMES = {"mo": "month", "yr": "year", "wk": "week", "hr": "hour"}


def _times(match: re.Match) -> str:
    return f"{decimal(match.group('number'))} times"


UNIT = (r"(?P<unit>km/h|m/s²|(?:k?m|ft)/s|(?i:[kmg]bit/s)|°[CF]|°|fl\.? oz|sq\.? (?:ft|mi|km|m)\b|(?:[kc]?m|ft)[²³]|"
        r"[kc]?m[23]\b|[µμ][gm]\b|(?:MW|GW|mW|mA|b?hp|kN|MN|[kMG]Pa)\b|(?i:lb-ft|ft-lbs?)\b|"
        r"(?i:[kmg]b/s|mph|km|cm|mm|mi|ft|kg|mg|mcg|lbs|lb|oz|ml|cl|qt|kwh|kw|khz|mhz|ghz|hz|kbps|mbps|gbps|kb|mb|gb|tb|pb|kib|"
        r"mib|gib|tib|hrs|hr|sec|mins|min|ms|tbsp|tsp|gal|yd|fps|rpm|mah|kph|ha|nm|kcal|psi|dpi|ppi|db|bps|bp|iu|mp|"
        r"mmhg|pcs|tabs|tab|yrs|yr|wks|wk|mos)\b|[µμ]s\b|in\.(?=\s[a-z])|in(?=\sof\b)|"
        r"[mglLWVsh]\b)")  # single letters: "5G" is no gram


HEIGHT_MARKS: Rule = (  # two-digit feet only with inches and their mark ("12'6\""), not "the 'Top 10' list"
    re.compile(r"(?<![\w.°])(?P<feet>[1-9]\d(?=['′]\s?(?:1[01]|\d)\s?[\"″])|\d)\s?['′]"
               r"\s?(?:(?P<inches>1[01]|\d)\s?(?:[\"″]|'')?)?(?![\w'′])"), _height)


HEIGHT_WRITTEN: Rule = (
    re.compile(r"\b(?P<feet>\d)\s?(?P<written>ft)\.?\s?(?P<inches>1[01]|\d)\s?in\b"), _height)


INCH_MARK: Rule = (  # '48" tall', '27″': a number and the inch mark, not inside a word or before one
    re.compile(rf"(?<![\w.,'′\"])(?P<number>{NUMBER})(?P<mark>[\"″])(?![\w\"″'′])"), _inches)


HEIGHT_HYPHENATED: Rule = (re.compile(r"\b(?P<feet>\d)(?P<hyphen>-)foot-(?P<inches>1[01]|\d)\b"), _height)


AMOUNT_WITH_UNIT: Rule = (
    re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})(?:\s?|(?P<hyphen>-)){UNIT}"), _unit)
UNIT_AFTER_POWER: Rule = (re.compile(rf"(?<=\d)(?P<power>\^[-−]?\d{{1,3}}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{{1,3}})\s{UNIT}"),
                          _unit_after_power)
UNIT_PER_UNIT: Rule = (re.compile(rf"(?<![\w.,])(?P<first>{NUMBER}\s?{UNIT})/(?=\d)"), _unit_per_unit)  # 250mg/5mL
DIMENSIONS: Rule = (
    re.compile(r"(?<![\w.,])(?P<a>\d{1,4})(?:[x×]|\sx\s)(?P<b>\d{1,4})(?![\w.,]|\s?[x×]\s?\d)"), _dimensions)
RESOLUTION: Rule = (re.compile(r"(?<![\w.,])(?P<lines>\d{3,4})p\b"), _resolution)


SCALED_NUMBER: Rule = (
    re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})(?P<scale>k|M|mn|bn)\b"), _scaled_number)


MULTIPLIER: Rule = (re.compile(rf"(?<![\w.,])(?P<number>{NUMBER})x\b"), _times)


PER: Rule = (
    re.compile(r"(?<=\w)/(?P<per>month|year|week|day|hour|night|person|unit|item|serving|dose|mo|yr|wk|hr)\b"), _per)
