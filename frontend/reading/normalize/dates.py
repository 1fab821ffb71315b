"""Dates (written, ISO, numeric), years, eras, decades and named ranges of days and months."""
from __future__ import annotations

import re
from typing import cast

from frontend.reading.normalize.data import (
    COUNT_CONTEXT,
    MODERN_YEARS,
    MONTHS,
    PERIOD_NAMES,
    YEAR_ANNOUNCERS,
    YEAR_CONTEXT,
    YEAR_EVENTS,
    YEAR_FOLLOWERS,
)
from frontend.reading.normalize.spoken import (
    MONTH_NAMES,
    NAMED_DAYS,
    Rule,
    cardinal,
    full_name,
    letters,
    month_name,
    ordinal,
    two_digit_year,
    word_after,
    words_before,
    year,
)


def _date_iso(match: re.Match) -> str:
    """'2024-03-15' and '2024/03/15'; a time joined with T ('2024-03-15T10:30') follows after a comma."""
    y, m, d = int(match.group("y")), int(match.group("m")), int(match.group("d"))
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return re.sub(r"[-/.T]", " ", match.group(0))
    return f"{MONTHS[m - 1]} {ordinal(d)}, {year(y)}" + (", " if match.group(0).endswith("T") else "")


def _date_day_first(match: re.Match) -> str:
    """'31.12.2023' (dots: day first, as everywhere they are used)."""
    d, m, y = int(match.group("d")), int(match.group("m")), int(match.group("y"))
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return match.group(0)
    return f"the {ordinal(d)} of {MONTHS[m - 1]}, {year(y)}"


def _date_us(match: re.Match) -> str:
    """Month first, as an American reader takes '03/04/2024'; day first only where the month cannot be first
    ('15/03/2024')."""
    m, d, y = int(match.group("m")), int(match.group("d")), match.group("y")
    if match.group("sep") == "-" and len(y) == 2:  # "36-24-36" is no date
        return match.group(0)
    spoken_year = two_digit_year(y) if len(y) == 2 else year(int(y))
    if 1 <= m <= 12 and 1 <= d <= 31:
        return f"{MONTHS[m - 1]} {ordinal(d)}, {spoken_year}"
    if 1 <= d <= 12 and 1 <= m <= 31:
        return f"the {ordinal(m)} of {MONTHS[d - 1]}, {spoken_year}"
    if match.group("sep") == "-":
        return match.group(0)
    return f"{cardinal(m)} slash {cardinal(d)} slash {cardinal(int(y))}"


def _month_day(match: re.Match) -> str:
    spoken = f"{month_name(match.group('month'))} {ordinal(int(match.group('day')))}"
    if match.group("last"):
        spoken += f" to {ordinal(int(match.group('last')))}"
    if match.group("year"):
        spoken += f", {year(int(match.group('year')))}"
    return spoken


def _day_month(match: re.Match) -> str:
    article = "" if (words_before(match, 1) or [""])[0].lower() == "the" else "the "  # "the 4th of July"
    spoken = f"{article}{ordinal(int(match.group('day')))} of {month_name(match.group('month'))}"
    if match.group("year"):
        spoken += f", {year(int(match.group('year')))}"
    return spoken


def _named_range(match: re.Match) -> str:
    """'Mon-Fri' -> 'Monday through Friday': a span of named days or months is read inclusive, as American
    newsreaders say it."""
    return f"{full_name(match.group('a'))} through {full_name(match.group('b'))}"


def _era_year(match: re.Match) -> str:
    """'476 AD' -> 'four seventy-six A D', 'AD 79' -> 'A D seventy-nine': years read in pairs."""
    spoken_year = year(int(match.group("number")))
    era_before = match.groupdict().get("era_before")
    era = era_before or match.group("era_after")
    return f"{letters(era)} {spoken_year}" if era_before else f"{spoken_year} {letters(era)}"


def _decade(match: re.Match) -> str:
    context, number = match.group("context") or "", match.group("decade")
    if len(number) == 2 and not (context or match.group("apostrophe")):  # "30s" alone is thirty seconds
        return match.group(0)
    spoken = year(int(number)) if len(number) == 4 else cardinal(int(number))
    return context + (spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s")


def _abbreviated_year(match: re.Match) -> str:
    return two_digit_year(match.group("year"))


def _year(match: re.Match) -> str:
    number = int(match.group("year"))
    before = [w.lower() for w in words_before(match, 2)]
    previous = before[-1] if before else ""
    following = cast(re.Match[str], re.match(r"[a-z]*", word_after(match))).group(0)  # matches, maybe empty
    announced = previous in YEAR_ANNOUNCERS or (len(before) == 2 and previous == "in" and before[0] in YEAR_EVENTS)
    if announced or (previous == "of" and before[0] in PERIOD_NAMES):  # "founded in 1718", "the class of 2027"
        return year(number) if number >= 1000 else match.group(0)
    if previous in YEAR_CONTEXT and number in MODERN_YEARS:  # "in 2019 sales fell"
        return year(number)
    plausible = 1100 <= number <= 2099 or (previous in YEAR_CONTEXT and number >= 1000)
    counts_something = previous in COUNT_CONTEXT or (following and following not in YEAR_FOLLOWERS)
    return match.group(0) if counts_something or not plausible else year(number)


YEAR_ERA_AFTER: Rule = (
    re.compile(r"\b(?P<number>\d{1,4})\s?(?P<era_after>BCE|BC|AD|CE)\b"), _era_year)


YEAR_ERA_BEFORE: Rule = (re.compile(r"\b(?P<era_before>AD)\s?(?P<number>\d{1,4})\b"), _era_year)


DATE_ISO: Rule = (
    re.compile(r"\b(?P<y>\d{4})(?P<sep>[-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?:T(?=\d)|\b)"), _date_iso)


DATE_DAY_FIRST: Rule = (
    re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b(?!\.\d)"), _date_day_first)


DATE_US: Rule = (
    re.compile(r"\b(?P<m>\d{1,2})(?P<sep>[/-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b"),
     _date_us)


MONTH_DAY: Rule = (re.compile(rf"\b(?P<month>{MONTH_NAMES})\s(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
                rf"(?:[-–](?P<last>\d{{1,2}})(?:st|nd|rd|th)?\b)?(?:,?\s(?P<year>\d{{4}})\b)?"), _month_day)


DAY_MONTH: Rule = (
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<month>{MONTH_NAMES})\b(?:,?\s(?P<year>\d{{4}})\b)?"),
     _day_month)


NAMED_RANGE: Rule = (
    re.compile(rf"\b(?P<a>{NAMED_DAYS}|{MONTH_NAMES})\s?[-–—]\s?(?P<b>{NAMED_DAYS}|{MONTH_NAMES})(?!\w)"),
     _named_range)


DECADE_NAME: Rule = (
    re.compile(r"(?P<context>\b(?:[Tt]he|[Hh]er|[Hh]is|[Tt]heir|[Mm]y|[Yy]our|[Oo]ur|[Ee]arly|[Mm]id|[Ll]ate)[\s-])?"
                r"(?P<apostrophe>['’])?\b(?P<decade>1[1-9]\d0|20\d0|[1-9]0)['’]?s\b"), _decade)


ABBREVIATED_YEAR: Rule = (re.compile(r"(?<!\w)['’](?P<year>\d\d)\b(?!['’])"), _abbreviated_year)


FOUR_DIGIT_YEAR: Rule = (re.compile(r"(?<![\w.,$€£¥#/:+-])(?P<year>\d{4})(?![\w%°/:-]|[.,]\d)"), _year)


EXPIRY_CONTEXT = {"exp", "exp.", "expires", "expiry", "expiration", "valid", "through", "until", "dated", "released"}


def _month_year(match: re.Match) -> str:
    """'since Sept. 2021', '12/2025' (a card's expiry): the month and the year."""
    month = match.group("month")
    name = MONTHS[int(month) - 1] if month.isdigit() else month_name(month)
    return f"{name} {year(int(match.group('year')))}"


def _year_month(match: re.Match) -> str:
    """'EXP 2026-08' is August twenty twenty-six after an expiry word; '2008-09' alone is a season, a range."""
    if (words_before(match, 1) or [""])[0].lower().rstrip(":") not in EXPIRY_CONTEXT:
        return match.group(0)
    return f"{MONTHS[int(match.group('month')) - 1]} {year(int(match.group('year')))}"


def _date_span(match: re.Match) -> str:
    """'Dec 25 - Jan 1', 'May 3–June 14', '3 May–14 June': the dash between two dates is 'to'."""
    return f"{match.group('month') or ''} to "


MONTH_YEAR: Rule = (re.compile(rf"\b(?P<month>{MONTH_NAMES})\s(?P<year>1\d{{3}}|20\d\d)\b(?![.,]\d)"), _month_year)
MONTH_SLASH_YEAR: Rule = (re.compile(r"(?<![\w/.])(?P<month>0?[1-9]|1[0-2])/(?P<year>(?:19|20)\d\d)\b(?!/)"),
                          _month_year)
YEAR_MONTH: Rule = (
    re.compile(r"(?<![\w/.-])(?P<year>(?:19|20)\d\d)-(?P<month>0[1-9]|1[0-2])\b(?![-/]\d)"), _year_month)
DATE_SPAN: Rule = (  # month first ("Dec 25 - Jan 1", "May 3–June 14") or day first ("3 May–14 June")
    re.compile(rf"(?:(?<=\d)(?:st|nd|rd|th)?(?=\s?[-–—]\s?(?:{MONTH_NAMES})\s\d)|(?<=\d\s)(?P<month>{MONTH_NAMES})"
               rf"(?=\s?[-–—]\s?\d{{1,2}}(?:st|nd|rd|th)?\s(?:{MONTH_NAMES})\b))\s?[-–—]\s?"), _date_span)
