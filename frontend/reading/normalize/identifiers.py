"""Identifiers read in groups or digit by digit: phone numbers, codes, flight and version numbers, systems' names
("iOS")."""
from __future__ import annotations

import re
from typing import cast

from frontend.reading.normalize.data import (
    CODE_CONTEXT,
    DIGIT_CONTEXT,
    DIGIT_FILLERS,
    EMERGENCY_CONTEXT,
    EMERGENCY_NUMBERS,
    LETTER_CODE_CONTEXT,
    LETTER_CODE_DIGITS,
    NUMBER_FILLERS,
    NUMBERED_THINGS,
    PAIRED_CONTEXT,
    SHORT_CODE_VERBS,
    TOLL_FREE_CODES,
    US_STATE_CODES,
    US_STATE_NAMES,
    ZIP_WINDOW,
    ZIP_WORDS,
)
from frontend.reading.normalize.spoken import (
    Rule,
    cardinal,
    digits,
    initials,
    letters,
    paired,
    word_after,
    words_before,
    year,
)


def announcer(match: re.Match) -> str:
    """The word that announces a number or code, past fillers ('code is 4821', 'account number 123'): 'order#' for
    a thing that 'number', 'no.' or '#' names ('order number is 4471093'); '' if none."""
    previous = [w.lower().strip(":,") for w in words_before(match, 3)]
    numbered = False
    while previous and previous[-1] in DIGIT_FILLERS:
        numbered = numbered or previous.pop() in NUMBER_FILLERS
    word = (previous or [""])[-1]
    return word + "#" if numbered and word in NUMBERED_THINGS else word


def announced(match: re.Match, context: set[str]) -> bool:
    word = announcer(match)
    return word in context or word.endswith("#")


def _digit_string(match: re.Match) -> str:
    """Codes, PINs, account, order and emergency numbers digit by digit; '36-24-36' group by group."""
    number = match.group(0)
    previous = announcer(match)
    neighbours = {previous, word_after(match).lower().strip(".,")}
    long_numbered = previous.endswith("#") and len(number) >= 4  # "order number 4471093", not "order number 12"
    if ((number.startswith("0") and len(number) >= 3) or previous in DIGIT_CONTEXT or long_numbered
            or (number in EMERGENCY_NUMBERS and neighbours & EMERGENCY_CONTEXT) or zip_code(match)
            or short_code(match)):
        return ", ".join(digits(group) for group in number.split("-"))
    if previous in PAIRED_CONTEXT and "-" not in number:  # "error 404", "Boeing 737"
        return paired(number)
    return number


def zip_code(match: re.Match) -> bool:
    """'the ZIP code for the office is 60614', 'Chicago, IL 60614', 'Austin, Texas 78701-1234': five digits (and
    four) after a word naming a ZIP or postal code a few words before, or after a state that ends an address."""
    number = match.group(0)
    if not re.fullmatch(r"\d{5}(?:-\d{4})?", number):
        return False
    before = [w.strip(",:;()").lower() for w in words_before(match, ZIP_WINDOW)]
    if ZIP_WORDS & set(before):
        return True
    last = words_before(match, 3)
    for size in (1, 2):  # "IL", "Illinois", "New York" after the city and its comma
        state, city = last[-size:], last[-size - 1:-size]
        named = " ".join(state).rstrip(",") in US_STATE_CODES or " ".join(state).lower().rstrip(",") in US_STATE_NAMES
        if named and len(state) == size and city and city[0].endswith(","):
            return True
    return False


def short_code(match: re.Match) -> bool:
    """'Text STOP to 45678': four to six digits after 'to', a keyword in capitals or quotes before it, a verb that
    sends it a few words before that."""
    before = words_before(match, 5)
    if not 4 <= len(match.group(0)) <= 6 or len(before) < 3 or before[-1].lower() != "to":
        return False
    keyword = before[-2].strip("\"'“”‘’")
    return keyword.isupper() and keyword.isalpha() and any(w.lower() in SHORT_CODE_VERBS for w in before[:-2])


def _spaced_digits(match: re.Match) -> str:
    """'order number is 4018 2273 9915', 'code 204 817': groups of digits after a word that names a code, or three
    groups and more not all of three digits after the first, digit by digit; '1 000 000' and '€250 000', groups of
    three after a short lead, are thousands, a cardinal read by the rules after."""
    written = match.group(0)
    currency, groups = match.group("currency") or "", match.group("groups").split()
    thousands = len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
    leading_zero = len(groups[0]) >= 2 and groups[0].startswith("0")  # "reads 0071 5523"
    if not currency and (announced(match, DIGIT_CONTEXT) or leading_zero):
        return ", ".join(digits(group) for group in groups)
    if thousands:
        return currency + ",".join(groups)
    if len(groups) >= 3 and len(groups[0]) >= 3 and not currency:
        return ", ".join(digits(group) for group in groups)
    return written


def _code(match: re.Match) -> str:
    """'QX7K2M' Q X seven K two M, 'H1N1', 'Y2K'; 'plate ABC123' after a word that announces a code."""
    code = match.group(0)
    runs = CODE_RUN.findall(code)
    named = len(runs) == 2 and len(runs[0]) <= 3 and announced(match, CODE_CONTEXT)
    if len(runs) < 3 and not named:
        return code
    return " ".join(digits(c) if c.isdigit() else c for c in code)


def _hyphenated_code(match: re.Match) -> str:
    """'#A7X-2291' A seven X, two two nine one; 'Part No. 44-1187-B' four four, one one eight seven, B: a code of
    capitals and digits in three groups or more, or with a group that mixes them three times, said group by group,
    each character alone ('COVID-19', 'F-150', '9AM-5PM' and '10K-20K' are left to the rules after)."""
    groups = match.group(0).split("-")
    if len(groups) < 3 and not any(len(CODE_RUN.findall(group)) >= 3 for group in groups):
        return match.group(0)
    return ", ".join(" ".join(digits(c) if c.isdigit() else c for c in group) for group in groups)


def _letter_code(match: re.Match) -> str:
    """'case ID AB-20931' A B, two zero nine three one: capitals and a long number, each character alone; with four
    digits only where a word announces it ('case AB-2093'; 'ISO-9001' is left to the rules after)."""
    number = match.group("number")
    if len(number) < LETTER_CODE_DIGITS and not announced(match, LETTER_CODE_CONTEXT):
        return match.group(0)
    return f"{' '.join(match.group('letters'))}, {digits(number)}"


def _flight(match: re.Match) -> str:
    code = match.group("code")
    return f"{match.group('word')} {letters(code) + ' ' if code else ''}{paired(match.group('number'))}"


def _phone(match: re.Match) -> str:
    """'+44 20 7946 0958' plus four four, two zero, ...: digit by digit, group by group, the plus said."""
    groups = [g for g in re.split(r"\D+", match.group(0)) if g]
    return ("plus " if match.group(0).startswith("+") else "") + ", ".join(digits(g) for g in groups)


def _vanity_phone(match: re.Match) -> str:
    """'1-888-FLOWERS' one, eight eight eight, flowers: a toll-free or long-distance number with words in it."""
    groups = match.group(0).split("-")
    if not (match.group("trunk") or match.group("area") in TOLL_FREE_CODES) or not re.search("[A-Z]", match.group(0)):
        return match.group(0)
    return ", ".join(digits(g) if g.isdigit() else g.lower() if g.isalpha() else letters(g) for g in groups)


def _local_phone(match: re.Match) -> str:
    """'555-1234' is a local number; '200-1000', both round, a range that a later rule reads."""
    if match.group("prefix").endswith("0") and match.group("line").endswith("0"):
        return match.group(0)
    return _phone(match)


def _version(match: re.Match) -> str:
    """'v2.1' version two point one; '1.2.3-rc1' one point two point three R C one; '192.168.1.1' with dots."""
    parts = match.group("version").split(".")
    is_address = not match.group("v") and len(parts) == 4 and all(int(p) <= 255 for p in parts)
    spoken = (" dot " if is_address else " point ").join(cardinal(int(p)) for p in parts)
    release = match.group("release")
    if release:
        label, number = cast(re.Match[str], re.match(r"-([a-zA-Z]+)\.?(\d*)", release)).groups()
        spoken += f" {label.lower() if label.lower() in ('alpha', 'beta') else letters(label.upper())}"
        spoken += f" {cardinal(int(number))}" if number else ""
    return f"version {spoken}" if match.group("v") else spoken


def _operating_system(match: re.Match) -> str:
    """'iOS' I O S, 'macOS' mac O S, 'tvOS' T V O S: a system's name before the capitals OS, said as letters."""
    name = match.group("name")
    if len(name) == 1 or initials(name):
        name = " ".join(name.upper())
    elif name[0] == "i" and name[1].isupper():  # "iPadOS": I Pad O S
        name = f"I {name[1:]}"
    return f"{name} O S"


def _isbn(match: re.Match) -> str:
    """'ISBN 978-0-14-044913-6': the letters, then each group digit by digit, as the number is printed."""
    groups = re.split(r"[\s-]", match.group("number"))
    spoken_groups = ", ".join(" ".join("X" if c in "Xx" else digits(c) for c in group) for group in groups)
    return f"I S B N{match.group('colon') or ''} {match.group('filler') or ''}{spoken_groups}"


def _cve(match: re.Match) -> str:
    return f"C V E {year(int(match.group('year')))} {digits(match.group('number'))}"


def _extension(match: re.Match) -> str:
    return f" extension {digits(match.group('number'))}"


FLIGHT: Rule = (
    re.compile(r"\b(?P<word>[Ff]light)\s(?:(?P<code>[A-Z]{2}|[A-Z]\d|\d[A-Z])\s?)?(?P<number>\d{1,4})\b"), _flight)


PHONE_TRUNK_PREFIX: Rule = (re.compile(r"(?<![\w+.-])0\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4}\b"), _phone)


PHONE_NORTH_AMERICAN: Rule = (
    re.compile(r"(?:(?:\+\d{1,3}|(?<![\w-])1(?=[\s.-]))[\s.-]?)?\(?\d{3}(?:\)[\s-]?|[\s.-])\d{3}[\s.-]\d{4}\b"),
     _phone)


PHONE_INTERNATIONAL: Rule = (  # "+44 (0)20 7946 0958": the trunk zero in brackets, no space after it
    re.compile(r"\+\d{1,3}(?:\s?\(0\)(?=\d))?(?:(?:[\s.-]|(?<=\)))\(?\d{1,8}\)?){2,5}(?![\d-])"), _phone)


LOCAL_PHONE: Rule = (
    re.compile(r"(?<![\w.-])(?P<prefix>[2-9]\d\d)-(?P<line>\d{4})(?![\w-]|\.\d)"), _local_phone)


DIGIT_STRING: Rule = (
    re.compile(r"(?<![\w.,$€£¥#/:+-])\d{2,}(?:-\d{2,}){0,8}(?![\w%°/:'′-]|[.,]\d)"), _digit_string)


SPACED_DIGITS: Rule = (
    re.compile(r"(?<![\w.,$€£¥#/:+-])(?P<currency>[$€£¥₹])?(?P<groups>\d{1,4}(?: \d{3,4}){1,5})"
               r"(?![\w%°/:'′-]|[.,]\d| \d)"), _spaced_digits)


VERSION_NUMBER: Rule = (
    re.compile(r"(?<![\w.,])(?:(?P<v>[vV])(?=\d)|(?=\d{1,4}\.\d{1,4}\.\d))(?P<version>\d{1,4}(?:\.\d{1,4}){0,5})"
               r"(?P<release>-(?:alpha|beta|rc|RC)\.?\d{0,3})?(?!\w|\.\d)"), _version)


ISBN: Rule = (
    re.compile(r"\bISBN(?:-1[03])?(?P<colon>:)?\s?(?P<filler>(?:is|was|number|no\.)\s)?"
               r"(?P<number>\d{1,13}(?:[\s-][\dX]{1,7}){0,4})(?![\w-])"), _isbn)
CVE: Rule = (re.compile(r"\bCVE-(?P<year>\d{4})-(?P<number>\d{4,7})\b"), _cve)
EXTENSION: Rule = (  # "555-123-4567 x204", "... ext 12"; "ext." is read by the abbreviations
    re.compile(r"(?<=\d[-. ]\d{4})\s(?:x(?=\d)|ext\s?)(?P<number>\d{1,6})\b"), _extension)
OPERATING_SYSTEM: Rule = (  # "iOS", "macOS", "ChromeOS"; not "CHAOS"
    re.compile(r"\b(?P<name>[a-z][A-Za-z]{0,11}|[A-Z][a-z]{1,11})OS\b"), _operating_system)
CODE_RUN = re.compile(r"[A-Z]+|\d+")
CODE: Rule = (re.compile(r"(?<![\w.@#/-])(?=[A-Z]{0,11}\d)(?=\d{0,11}[A-Z])[A-Z0-9]{3,12}(?![\w-])"), _code)
HYPHENATED_CODE: Rule = (  # capitals and digits both, in groups joined by hyphens
    re.compile(r"(?<![\w.@/-])(?=[A-Z0-9-]{0,40}[A-Z])(?=[A-Z0-9-]{0,40}\d)[A-Z0-9]{1,8}(?:-[A-Z0-9]{1,8}){1,4}"
               r"(?![\w-])"), _hyphenated_code)
LETTER_CODE: Rule = (
    re.compile(r"(?<![\w.@/-])(?P<letters>[A-Z]{1,3})-(?P<number>\d{4,12})(?![\w-]|[.,]\d)"), _letter_code)
PHONE_VANITY: Rule = (
    re.compile(r"(?<![\w+.-])(?:(?P<trunk>1)-)?(?P<area>\d{3})-[A-Z0-9]{2,10}(?:-[A-Z0-9]{2,10}){0,2}(?![\w-])"),
    _vanity_phone)
