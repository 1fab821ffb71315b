"""Symbols: math and comparison signs, terms and powers ("3x + 5", "2^10", "x²"), Greek letters, approximately,
optional plurals ("file(s)"), keys ("Ctrl + C") and the symbols left after every other rule ("&", "#")."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import (
    ALWAYS_KEYS,
    COMPARISONS,
    GREEK_LETTERS,
    KEY_NAMES,
    KEY_VERBS,
    KEYPAD_JOINERS,
    KEYPAD_SYMBOLS,
    KEYPAD_VERBS,
    POWERS,
    SECTION_SIGNS,
    SUPERSCRIPTS,
    SYMBOLS,
    VARIABLES,
)
from frontend.reading.normalize.spoken import Rule, ordinal, word_after, words_before


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
    """'x²' x squared, '2³' two cubed, '10⁶' ten to the sixth; 'r²h' r squared h."""
    letter_after = match.string[match.end():match.end() + 1].isalpha()
    return f" {SUPERSCRIPTS[match.group(0)]}" + (" " if letter_after else "")


def _key(match: re.Match) -> str:
    """'Ctrl + C' control plus C, 'Hit Esc' hit escape, 'the Esc key'; 'Del Mar' is no key."""
    key = match.group("key")
    joined = match.group("before") or match.group("after")
    previous = (words_before(match, 1) or [""])[0].lower()
    is_key = key in ALWAYS_KEYS or joined or previous in KEY_VERBS or word_after(match).lower().startswith("key")
    return match.group(0).replace(key, KEY_NAMES[key]) if is_key else match.group(0)


def _keypad(match: re.Match) -> str:
    """'Press * then #' press star then pound, 'the # key': a phone's keys after a verb that presses them; '5 * 4'
    is left to the comparisons (times)."""
    symbol = match.group(0)
    before = [w.lower().strip(",;:") for w in words_before(match, 6)]
    previous = before[-1] if before else ""
    after_joiner = previous in KEYPAD_JOINERS and bool(KEYPAD_VERBS & set(before))
    pressed = previous in KEYPAD_VERBS or after_joiner or word_after(match).lower().startswith(("key", "button"))
    return KEYPAD_SYMBOLS[symbol] if pressed else symbol


def _section_sign(match: re.Match) -> str:
    """'§ 12(b)' section twelve b, '§§ 4-6' sections, '¶ 7' paragraph seven."""
    return f" {SECTION_SIGNS[match.group(0)]} "


def _term(match: re.Match) -> str:
    """'3x + 5 = 20' three x plus five; '3x faster' is left to the multipliers (three times)."""
    before = match.string[max(0, match.start() - 2):match.start()].rjust(2)
    sign_before = before[1] in SIGNS - {"-"} or (before[1] == " " and before[0] in SIGNS)  # "B-3a" is a room
    in_equation = sign_before or SIGN_AFTER.match(match.string, match.end())
    return f"{match.group('number')} {match.group('variable')}" if in_equation else match.group(0)


def _power(match: re.Match) -> str:
    """'2^10' two to the tenth, 'x^2' x squared, '10^-3' ten to the minus third, '2^n' two to the n."""
    exponent = match.group("exponent")
    if not exponent[-1].isdigit():
        return f" to the {exponent}"
    number = int(exponent.lstrip("-−"))
    if number in POWERS and exponent[0].isdigit():
        return f" {POWERS[number]}"
    return f" to the {'minus ' if not exponent[0].isdigit() else ''}{ordinal(number)}"


def _greek(match: re.Match) -> str:
    """'πr²' pi r squared, '2π' two pi, 'α-helix' alpha-helix: the name, apart from a letter or digit it touches."""
    text, start, end = match.string, match.start(), match.end()
    before = " " if text[start - 1:start].isalnum() else ""
    return f"{before}{GREEK_LETTERS[match.group(0)]}{' ' if text[end:end + 1].isalnum() else ''}"


def _minus(match: re.Match) -> str:
    """'7 = 3n - 2': a spaced hyphen between terms is minus where an equals sign is near; '102 - 99' is a score."""
    window = match.string[max(0, match.start() - 30):match.end() + 30]
    return "minus" if "=" in window else match.group(0)


SIGNS = set("+-=<>×÷−≤≥≠^(")
SIGN_AFTER = re.compile(r"\s?[+=<>^×÷−≤≥≠²³]|\s-\s")  # a hyphen only spaced: "3x-zoom", "10k-20k", "9a-5p"


OPTIONAL_PLURAL: Rule = (re.compile(r"(?<=[A-Za-z])\([sS]\)(?!\w)"), _optional_plural)
APPROXIMATELY: Rule = (re.compile(r"(?<![\w~])~\s?(?=[\d$€£¥₹])"), _approximately)  # "~20": about twenty
COMPARISON: Rule = (re.compile(r"(?<=\s)[<>*](?=\s)"), _comparison)  # "5 < 7", "5 * 4"; not "<b>" or "*bold*"
SUPERSCRIPT: Rule = (re.compile(r"(?<=[\w)])[²³⁰¹⁴⁵⁶⁷⁸⁹]"), _superscript)
LEFTOVER_SYMBOL: Rule = (re.compile("[" + re.escape("".join(SYMBOLS)) + "]"), _symbol)
KEY: Rule = (re.compile(r"(?P<before>\+\s?)?\b(?P<key>" + "|".join(KEY_NAMES) + r")\b(?P<after>\s?\+)?"), _key)
TERM: Rule = (re.compile(rf"(?<![\w.,$€£¥₹])(?P<number>\d{{1,6}}(?:\.\d{{1,6}})?)(?P<variable>[{VARIABLES}])"
                         r"(?![^\W²³]|\.\d)"), _term)
POWER: Rule = (re.compile(r"(?<=[\w)])\^(?P<exponent>[-−]?\d{1,4}|[a-z])(?!\w|\.\d)"), _power)  # after TERM: "3x^2"
GREEK_LETTER: Rule = (re.compile("[" + "".join(GREEK_LETTERS) + "]"), _greek)
KEYPAD: Rule = (re.compile(r"(?<!\S)[*#](?=[\s.,;:!?)]|$)"), _keypad)  # a lone star or number sign
SECTION_SIGN: Rule = (re.compile("§§?|¶¶?"), _section_sign)
SPACED_MINUS: Rule = (re.compile(r"(?<=[\w)²³] )-(?= [\w(])"), _minus)
