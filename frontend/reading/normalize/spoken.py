"""Spoken forms shared by every category (cardinals, ordinals, years, digits) and the bounded looks at the
words around a match; the pattern pieces several categories use."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from num2words import num2words

from frontend.reading.normalize.data import (
    DETERMINERS,
    DIGIT_WORDS,
    MONTH_ABBREVIATIONS,
    MONTHS,
    NOT_NOUNS,
    SPELLED_ACRONYMS,
    VOWELS,
    WEEKDAY_NAMES,
)

NEXT_WORD = re.compile(r"\s+(\S+)")


Rule = tuple[re.Pattern, Callable[[re.Match], str]]


@lru_cache(maxsize=4096)  # num2words is slow; documents repeat the same few numbers
def cardinal(number: str | int | float) -> str:
    """American cardinal: no 'and', no commas (3497 -> three thousand four hundred ninety-seven)."""
    text = num2words(number)
    return text.replace(",", "").replace(" and ", " ")


def decimal(text: str) -> str:
    """'12.05' -> 'twelve point zero five'; '1,200' -> 'one thousand two hundred'. Digit by digit past
    fifteen digits, where no reader says the number."""
    whole, _, fraction = text.replace(",", "").partition(".")
    spoken = cardinal(int(whole or 0)) if len(whole) <= 15 else digits(whole)
    if fraction:
        spoken += " point " + " ".join(DIGIT_WORDS[int(d)] for d in fraction)
    return spoken


@lru_cache(maxsize=4096)
def ordinal(number: int) -> str:
    return num2words(number, to="ordinal").replace(",", "").replace(" and ", " ")


@lru_cache(maxsize=4096)
def year(number: int) -> str:
    """A year as Americans read it: in pairs ('nineteen ninety-nine', 'twenty twenty-four', 'ten sixty-six'),
    'oh' for a zero tens digit ('nineteen oh five'), 'hundred' for round centuries ('nineteen hundred'),
    and 2000-2009 as cardinals ('two thousand', 'two thousand five')."""
    if 2000 <= number <= 2009 or number % 1000 == 0:  # "two thousand five", "the year one thousand"
        return cardinal(number)
    return num2words(number, to="year").replace("oh-", "oh ").replace(" and ", " ")


def two_digit_year(text: str) -> str:
    """'99' -> 'ninety-nine', '05' -> 'oh five', '00' -> 'two thousand'."""
    number = int(text)
    if number == 0:
        return year(2000)
    return f"oh {cardinal(number)}" if number < 10 else cardinal(number)


def digits(text: str) -> str:
    return " ".join(DIGIT_WORDS[int(d)] for d in text if d.isdigit())


def paired(text: str) -> str:
    """A number read as its last two digits after the rest, as flight numbers are: '370' -> 'three seventy',
    '1549' -> 'fifteen forty-nine', '305' -> 'three oh five', '300' -> 'three hundred'."""
    if len(text) <= 2:
        return cardinal(int(text))
    head, tail = cardinal(int(text[:-2])), int(text[-2:])
    return f"{head} {'hundred' if tail == 0 else f'oh {cardinal(tail)}' if tail < 10 else cardinal(tail)}"


def letters(text: str) -> str:
    return " ".join(c for c in text if c.isalnum())


def initials(word: str) -> bool:
    """Whether a word of two to five letters, in any case, is said letter by letter: a known initialism ('nba',
    'uk') or no vowel ('nps')."""
    upper = word.upper()
    return 2 <= len(word) <= 5 and word.isalpha() and (upper in SPELLED_ACRONYMS or not VOWELS & set(upper))


def words_before(match: re.Match, count: int) -> list[str]:
    """Up to `count` whitespace-separated words right before the match (from a bounded window)."""
    return match.string[max(0, match.start() - 60):match.start()].split()[-count:]


def word_after(match: re.Match) -> str:
    """The word after the match when whitespace separates them ('' otherwise), from a bounded window."""
    following = NEXT_WORD.match(match.string[match.end():match.end() + 40])
    return following.group(1) if following else ""


def words_after(match: re.Match, count: int) -> list[str]:
    """Up to `count` whitespace-separated words right after the match (from a bounded window)."""
    return match.string[match.end():match.end() + 60].split()[:count]


def text_ends(match: re.Match) -> bool:
    """Whether nothing but whitespace follows the match."""
    return not match.string[match.end():match.end() + 40].strip()


def ends_sentence(match: re.Match) -> bool:
    """Whether a match that took a full stop ends its sentence: the text ends or a capital follows."""
    return word_after(match)[:1].isupper() or text_ends(match)


def month_name(token: str) -> str:
    key = token.rstrip(".").lower()
    return MONTH_ABBREVIATIONS.get(key) or MONTH_ABBREVIATIONS[key[:3]]


def full_name(token: str) -> str:
    key = token.rstrip(".").lower()
    return WEEKDAY_NAMES.get(key) or month_name(token)


def plural_number(number: str) -> str:
    spoken = decimal(number).removeprefix("one ")
    return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"


NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"


MONTH_NAMES = "|".join(m for m in MONTHS) + "|" + "|".join(
    m.capitalize() + r"\.?" for m in MONTH_ABBREVIATIONS)


CURRENCY = "[$€£¥₹]"


CLOCK = r"\d{1,2}:\d\d(?!\d)"


AM_PM = r"[aApP]\.?[mM]\.?"


NAMED_DAYS = "|".join(sorted((key.capitalize() for key in WEEKDAY_NAMES), key=len, reverse=True))


ACRONYM_NOUN = re.compile(r"[A-Z]{2,6}(?:-[A-Z0-9]{1,3})?")  # "SSD", "USB-C": a thing's initials name it


def describes_noun(match: re.Match, always: bool = False) -> bool:
    """Whether an amount describes the noun after it ('a 500 mg tablet', 'the $50 card', 'a 512GB SSD'): a
    lowercase noun or an acronym follows and a determiner comes before (or `always`, for units said so even without
    one: '100 W bulb'); the noun may end the sentence ('under the 10MB limit.')."""
    following = word_after(match).rstrip(".,;:!?")
    lowercase_noun = following.isalpha() and following.islower() and following not in NOT_NOUNS
    if not (lowercase_noun or ACRONYM_NOUN.fullmatch(following)):
        return False
    return always or (words_before(match, 1) or [""])[0].lower() in DETERMINERS
