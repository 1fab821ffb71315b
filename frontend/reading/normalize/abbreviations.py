"""Abbreviations resolved by context (Dr., St.), acronyms spelled or read, dotted initialisms, roman numerals."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import (
    ABBREVIATIONS,
    CAPITAL_WORDS,
    CODE_NUMBER_NOUNS,
    EXPANSIONS,
    LOWERCASE_WORDS,
    NOUN_ABBREVIATIONS,
    NUMBER_ABBREVIATIONS,
    PLACE_BEFORE_NAME,
    REGNAL_NAMES,
    ROMAN_CONTEXT,
    ROMAN_VALUES,
    SENTENCE_FINAL_ABBREVIATIONS,
    SPELLED_ACRONYMS,
    STATES,
    TIME_ZONE_NAMES,
    TITLE_OR_PLACE,
    UNIT_ABBREVIATIONS,
    UNITS,
    VOWELS,
    WEEKDAY_NAMES,
    WORD_CODAS,
    WORD_ONSETS,
)
from frontend.reading.normalize.spoken import (
    Rule,
    cardinal,
    ends_sentence,
    letters,
    ordinal,
    text_ends,
    word_after,
    words_before,
)

ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")


def _roman(match: re.Match) -> str:
    numeral = match.group("numeral")
    if not ROMAN.fullmatch(numeral):
        return numeral
    previous = (words_before(match, 1) or [""])[0].rstrip(".:,")
    only_ivx = not set(numeral) - set("IVX")  # regnal and sequel numbers; "Louis C.K." and "Washington DC" are not
    if previous in REGNAL_NAMES and only_ivx:
        return f"the {ordinal(roman_value(numeral))}"
    single_letter = len(numeral) == 1  # "Part I", but "the part I like"
    in_context = previous.lower() in ROMAN_CONTEXT and (previous[:1].isupper() or not single_letter)
    sequel = not single_letter and only_ivx and previous[:1].isupper()
    return cardinal(roman_value(numeral)) if in_context or sequel else numeral


def roman_value(numeral: str) -> int:
    values = [ROMAN_VALUES[c] for c in numeral]
    return sum(-v if v < after else v for v, after in zip(values, [*values[1:], 0], strict=True))


def _abbreviation(match: re.Match) -> str:
    written = match.group(0)
    lower = written.lower()
    if written[:-1] in TIME_ZONE_NAMES:  # "7:05 p.m. EST." is a zone, read with its time
        return written
    previous = (words_before(match, 1) or [""])[0]
    if previous == "dot":  # "cityelections dot gov." is an address read already
        return written
    if lower in NUMBER_ABBREVIATIONS:  # "No. 5", "Apt. 4B" before a number; "I said no." is a word
        noun = lower in NOUN_ABBREVIATIONS and word_after(match)[:1].islower()  # "a spacious apt. near the park"
        return ABBREVIATIONS[lower] + " " if numbers_follow(match) or noun else written
    if lower in UNIT_ABBREVIATIONS and (previous[-1:].isdigit() or previous.lower() in ("sq", "sq.")):
        return written if ends_sentence(match) else written[:-1]  # "200 ms." and "1,200 sq ft." are units
    spoken = title_or_place(match, *TITLE_OR_PLACE[lower]) if lower in TITLE_OR_PLACE else ABBREVIATIONS[lower]
    following = word_after(match)
    can_end_sentence = lower in SENTENCE_FINAL_ABBREVIATIONS or spoken in ("Street", "Drive")
    new_sentence = following[:1].isupper() and following.lower() not in ABBREVIATIONS  # not "Co. Ltd."
    return spoken + "." if text_ends(match) or (can_end_sentence and new_sentence) else spoken


def numbers_follow(match: re.Match) -> bool:
    """Whether a number follows 'No.', or a code with a digit in it after a thing that codes name ('part no. WF-3310',
    'model no. X9')."""
    if match.string[match.end():match.end() + 2].strip()[:1].isdigit():
        return True
    previous = (words_before(match, 1) or [""])[0].lower().strip("(,")
    code = word_after(match)
    return previous in CODE_NUMBER_NOUNS and code[:1].isupper() and any(c.isdigit() for c in code)


def title_or_place(match: re.Match, title: str, place: str) -> str:
    """'Dr. Lee', 'in St. Louis', 'Yesterday Dr. Lee', 'Rue St. Honoré' are titles; 'Elm Dr.', 'Main St. in',
    '5th St.' and 'on Elm Dr. Then' (a name inside a sentence before it) end a street's name."""
    before = words_before(match, 2)
    previous = before[-1] if before else ""
    if previous.lower() in PLACE_BEFORE_NAME:
        return title
    after_name = previous[:1].isdigit() or (previous.rstrip(".").isalpha() and previous[:1].isupper())  # "Jr. Dr."
    starts_sentence = len(before) < 2 or before[0][-1:] in ".!?:"
    name_follows = word_after(match)[:1].isupper()
    return place if after_name and not (name_follows and starts_sentence) else title


def _acronym(match: re.Match) -> str:
    """Known initialisms and capitals that no one could read as a word are spelled; the rest (NASA) are read."""
    written, plural = match.group("letters"), match.group("plural")
    if written not in SPELLED_ACRONYMS and not unreadable(written):
        return match.group(0)
    return " ".join(written) + ("'s" if plural else "")


def unreadable(written: str) -> bool:
    """Whether capitals cannot be read as a word: no vowel ('NFL', but not 'DR', 'ST'), two consonants no word
    starts or ends with ('MRI', 'COPD'), or a vowel, a consonant and a vowel not a silent e ('IPO'; not 'AGO')."""
    if not VOWELS & set(written):
        return f"{written.lower()}." not in ABBREVIATIONS
    onset, coda = written[:2], written[-2:]
    if (not VOWELS & set(onset) and onset not in WORD_ONSETS) or (not VOWELS & set(coda) and coda not in WORD_CODAS):
        return True
    shape = "".join("v" if letter in VOWELS else "c" for letter in written)
    return shape == "vcv" and written[-1] in "AIOU" and written not in CAPITAL_WORDS


def _lowercase_initials(match: re.Match) -> str:
    """'the xz library' X Z, 'run npm' N P M: a short lowercase name without a vowel, but a unit ('per kg') or a
    word ('hmm', 'vs') is left as written."""
    written = match.group(0)
    return written if written in LOWERCASE_WORDS or written in UNITS else " ".join(written.upper())


def _mixed_case_initials(match: re.Match) -> str:
    """'pH' P H, 'mRNA' M R N A, 'eGFR': a lowercase letter before capitals said letter by letter, where the
    capitals are one letter or spelled themselves; units ('mL', 'dB') and words ('eSIM') are left as written."""
    written, capitals = match.group(0), match.group("capitals")
    if written.lower() in UNITS or not (len(capitals) == 1 or capitals in SPELLED_ACRONYMS or unreadable(capitals)):
        return written
    return " ".join(written.upper())


def _dotted_initialism(match: re.Match) -> str:
    """'U.S.' -> 'U S', keeping the full stop where it ends the sentence."""
    return letters(match.group(0)) + ("." if ends_sentence(match) else "")


ABBREVIATION_WORD: Rule = (
    re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
                + r")(?![^\W\d])", re.I), _abbreviation)


ROMAN_NUMERAL: Rule = (re.compile(r"\b(?P<numeral>[IVXLCDM]{1,7})\b"), _roman)


DOTTED_INITIALISM: Rule = (re.compile(r"(?<![\w.])(?:[A-Z]\.){2,6}(?!\w)"), _dotted_initialism)


ACRONYM_WORD: Rule = (re.compile(r"\b(?P<letters>[A-Z]{2,5})(?P<plural>s)?\b"), _acronym)
LOWERCASE_INITIALS: Rule = (re.compile(r"(?<![\w.@#/'’-])[b-df-hj-np-tv-xz]{2,3}(?![\w@/'’-]|\.\w)"),
                           _lowercase_initials)
MIXED_CASE_INITIALS: Rule = (re.compile(r"(?<![\w.@#/'’-])[a-z](?P<capitals>[A-Z]{1,4})(?![\w@/]|\.\w)"),
                             _mixed_case_initials)


def _state(match: re.Match) -> str:
    return STATES[match.group("state")] + ("." if ends_sentence(match) else "")


def _weekday(match: re.Match) -> str:
    """'Mon., Jan. 6' and 'on Tues.': a day's abbreviation where a date or 'on' says it is one ('He sat.' is not)."""
    following = match.string[match.end():match.end() + 1]
    after = word_after(match)
    previous = (words_before(match, 1) or [""])[0].lower()
    if not (following == "," or after[:1].isdigit() or after.rstrip(".").lower()[:3] in MONTH_KEYS or previous == "on"):
        return match.group(0)
    return WEEKDAY_NAMES[match.group("day").lower()] + ("." if text_ends(match) else "")


def _expansion(match: re.Match) -> str:
    return EXPANSIONS[match.group(0)]


MONTH_KEYS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
STATE: Rule = (re.compile(r"(?<=, )(?P<state>" + "|".join(re.escape(state) for state in STATES) + ")"), _state)
WEEKDAY_ABBREVIATION: Rule = (re.compile(r"\b(?P<day>Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun)\.(?!\w)"), _weekday)
EXPANSION: Rule = (re.compile(r"\b(?:" + "|".join(EXPANSIONS) + r")\b"), _expansion)
