"""Identifiers read in groups or digit by digit: phone numbers, codes, flight and version numbers."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import DIGIT_CONTEXT, DIGIT_FILLERS, EMERGENCY_CONTEXT, EMERGENCY_NUMBERS
from frontend.reading.normalize.spoken import Rule, cardinal, digits, letters, paired, word_after, words_before


def _digit_string(match: re.Match) -> str:
    """Codes, PINs, account and emergency numbers digit by digit; '36-24-36' group by group."""
    number = match.group(0)
    previous = [w.lower().strip(":,") for w in words_before(match, 3)]
    while previous and previous[-1] in DIGIT_FILLERS:
        previous.pop()
    neighbours = {(previous or [""])[-1], word_after(match).lower().strip(".,")}
    if (number.startswith("0") and len(number) >= 3 or (previous and previous[-1] in DIGIT_CONTEXT)
            or (number in EMERGENCY_NUMBERS and neighbours & EMERGENCY_CONTEXT)):
        return ", ".join(digits(group) for group in number.split("-"))
    return number


def _flight(match: re.Match) -> str:
    code = match.group("code")
    return f"{match.group('word')} {letters(code) + ' ' if code else ''}{paired(match.group('number'))}"


def _phone(match: re.Match) -> str:
    groups = [g for g in re.split(r"\D+", match.group(0)) if g]
    return ", ".join(digits(g) for g in groups)


def _local_phone(match: re.Match) -> str:
    """'555-1234' is a local number; '200-1000', both round, a range that a later rule reads."""
    if match.group("prefix").endswith("0") and match.group("line").endswith("0"):
        return match.group(0)
    return _phone(match)


def _version(match: re.Match) -> str:
    parts = match.group("version").split(".")
    is_address = not match.group("v") and len(parts) == 4 and all(int(p) <= 255 for p in parts)
    spoken = (" dot " if is_address else " point ").join(cardinal(int(p)) for p in parts)
    return f"version {spoken}" if match.group("v") else spoken


FLIGHT: Rule = (
    re.compile(r"\b(?P<word>[Ff]light)\s(?:(?P<code>[A-Z]{2}|[A-Z]\d|\d[A-Z])\s?)?(?P<number>\d{1,4})\b"), _flight)


PHONE_TRUNK_PREFIX: Rule = (re.compile(r"(?<![\w+.-])0\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4}\b"), _phone)


PHONE_NORTH_AMERICAN: Rule = (
    re.compile(r"(?:(?:\+\d{1,3}|(?<![\w-])1(?=[\s.-]))[\s.-]?)?\(?\d{3}(?:\)[\s-]?|[\s.-])\d{3}[\s.-]\d{4}\b"),
     _phone)


PHONE_INTERNATIONAL: Rule = (re.compile(r"\+\d{1,3}(?:[\s.-]\(?\d{1,8}\)?){2,5}(?![\d-])"), _phone)


LOCAL_PHONE: Rule = (
    re.compile(r"(?<![\w.-])(?P<prefix>[2-9]\d\d)-(?P<line>\d{4})(?![\w-]|\.\d)"), _local_phone)


DIGIT_STRING: Rule = (
    re.compile(r"(?<![\w.,$€£¥#/:+-])\d{2,}(?:-\d{2,})*(?![\w%°/:'′-]|[.,]\d)"), _digit_string)


VERSION_NUMBER: Rule = (
    re.compile(r"(?<![\w.,])(?P<v>[vV])?(?P<version>\d{1,4}(?:\.\d{1,4}){2,5})(?!\w|\.\d)"), _version)
