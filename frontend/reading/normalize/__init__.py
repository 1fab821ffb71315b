"""English text normalization: what a reader says for numbers, money, dates, times, units, addresses
and symbols, written out in words before G2P.

Each rule is one regular expression without nested unbounded repetition (so matching stays linear in the
input, even on adversarial text) and a function that returns the spoken form; each category keeps its rules in
a module of its own, and the word tables they read sit apart in `data`. Rules run in the order of RULES, most
specific first (addresses before abbreviations, dates and phone numbers before ranges, money before plain
numbers, units before years). A function may hand its match back unchanged, or rewrite it into a form a
later rule reads ("10-20" becomes "10 to 20"). Functions that look at the neighbouring words look at a
bounded window only.
"""
from __future__ import annotations

import re

from frontend.reading.normalize import (
    abbreviations,
    dates,
    finance,
    identifiers,
    money,
    numbers,
    symbols,
    times,
    units,
    web,
)
from frontend.reading.normalize.data import ABBREVIATIONS, DIGIT_WORDS, SENTENCE_FINAL_ABBREVIATIONS
from frontend.reading.normalize.spoken import Rule, cardinal, digits, ordinal

__all__ = ["ABBREVIATIONS", "CATEGORIES", "DIGIT_WORDS", "RULES", "SENTENCE_FINAL_ABBREVIATIONS", "cardinal", "digits",
           "normalize", "ordinal"]

RULES: list[Rule] = [
    web.WEB_ADDRESS,
    web.EMAIL_ADDRESS,
    web.HASHTAG,
    web.HANDLE,
    web.DOT_JS,
    symbols.KEYPAD,
    symbols.SECTION_SIGN,
    symbols.KEY,
    symbols.OPTIONAL_PLURAL,
    symbols.APPROXIMATELY,
    symbols.COMPARISON,
    symbols.GREEK_LETTER,
    units.UNIT_AFTER_POWER,
    symbols.TERM,
    symbols.POWER,
    symbols.SPACED_MINUS,
    abbreviations.ABBREVIATION_WORD,
    abbreviations.STATE,
    abbreviations.WEEKDAY_ABBREVIATION,
    abbreviations.EXPANSION,
    abbreviations.ROMAN_NUMERAL,
    identifiers.CODE,
    identifiers.ISBN,
    identifiers.CVE,
    finance.FISCAL_YEAR,
    finance.QUARTER,
    identifiers.FLIGHT,
    units.HEIGHT_MARKS,
    units.HEIGHT_WRITTEN,
    units.HEIGHT_HYPHENATED,
    units.INCH_MARK,
    times.MILITARY_TIME,
    identifiers.EXTENSION,
    times.SPLIT_TIME,
    times.COMPACT_DURATION,
    times.MINUTES,
    units.DIMENSIONS,
    units.RESOLUTION,
    identifiers.PHONE_VANITY,
    identifiers.PHONE_TRUNK_PREFIX,
    dates.YEAR_ERA_AFTER,
    dates.YEAR_ERA_BEFORE,
    dates.DATE_ISO,
    dates.YEAR_MONTH,
    dates.DATE_DAY_FIRST,
    dates.DATE_US,
    dates.MONTH_SLASH_YEAR,
    dates.DATE_SPAN,
    dates.MONTH_DAY,
    dates.DAY_MONTH,
    dates.MONTH_YEAR,
    identifiers.LETTER_CODE,
    identifiers.HYPHENATED_CODE,
    identifiers.PHONE_NORTH_AMERICAN,
    identifiers.PHONE_INTERNATIONAL,
    identifiers.LOCAL_PHONE,
    identifiers.SPACED_DIGITS,
    identifiers.DIGIT_STRING,
    dates.NAMED_RANGE,
    times.DOTTED_CLOCK,
    times.TIME_RANGE_START,
    numbers.BATTING_AVERAGE,
    numbers.NUMBER_RANGE,
    money.MONEY_SYMBOL_FIRST,
    money.MONEY_SYMBOL_AFTER,
    money.PERCENTAGE,
    identifiers.OPERATING_SYSTEM,
    identifiers.VERSION_NUMBER,
    times.CLOCK_DURATION,
    times.CLOCK_TIME,
    times.HOUR_AM_PM,
    numbers.RATIO_OR_SCORE,
    numbers.FRACTION_GLYPH,
    numbers.MIXED_NUMBER,
    numbers.FRACTION_SLASH,
    numbers.ORDINAL_NUMBER,
    dates.DECADE_NAME,
    dates.ABBREVIATED_YEAR,
    units.UNIT_PER_UNIT,
    units.AMOUNT_WITH_UNIT,
    symbols.SUPERSCRIPT,
    units.SCALED_NUMBER,
    units.MULTIPLIER,
    numbers.LETTERS_AND_NUMBER,
    dates.FOUR_DIGIT_YEAR,
    numbers.NUMBER_WITH_LETTERS,
    units.PER,
    abbreviations.DOTTED_INITIALISM,
    abbreviations.ACRONYM_WORD,
    abbreviations.LOWERCASE_INITIALS,
    abbreviations.MIXED_CASE_INITIALS,
    numbers.PLAIN_NUMBER,
    symbols.LEFTOVER_SYMBOL,
]

# Categories a request may turn off (Kokoro-FastAPI's normalization_options), each with the rules it names.
CATEGORIES = {"urls": {web.WEB_ADDRESS}, "emails": {web.EMAIL_ADDRESS},
              "phones": {identifiers.PHONE_VANITY, identifiers.PHONE_TRUNK_PREFIX, identifiers.PHONE_NORTH_AMERICAN,
                         identifiers.PHONE_INTERNATIONAL, identifiers.LOCAL_PHONE, identifiers.EXTENSION},
              "units": {units.AMOUNT_WITH_UNIT, units.UNIT_PER_UNIT, units.UNIT_AFTER_POWER},
              "optional_plurals": {symbols.OPTIONAL_PLURAL},
              "symbols": {symbols.LEFTOVER_SYMBOL, symbols.COMPARISON, symbols.APPROXIMATELY, symbols.SUPERSCRIPT,
                          symbols.POWER, symbols.SPACED_MINUS, symbols.GREEK_LETTER, symbols.KEYPAD,
                          symbols.SECTION_SIGN}}


def normalize(text: str, skip: frozenset[str] = frozenset()) -> str:
    """The spoken form of `text` (English), without the rules of the CATEGORIES in `skip`."""
    skipped = {rule for category in skip for rule in CATEGORIES[category]}
    for rule in RULES:
        if rule not in skipped:
            pattern, spoken = rule
            text = pattern.sub(spoken, text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
