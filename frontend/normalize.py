"""English text normalization: what a reader says for numbers, money, dates, times, units, addresses
and symbols, written out in words before G2P.

Each rule is one regular expression without nested repetition (so matching stays linear in the input,
even on adversarial text) and a function that returns the spoken form. Rules run in order, most
specific first (money before plain numbers, dates before fractions).
"""
from __future__ import annotations

import re
from typing import Callable

from num2words import num2words

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
MONTH_ABBREVIATIONS = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
CURRENCIES = {  # symbol: (singular, plural, cent singular, cent plural)
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"),
}
SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion", "t": "trillion"}
UNITS = {
    "km/h": "kilometers per hour", "mph": "miles per hour", "km": "kilometers", "cm": "centimeters",
    "mm": "millimeters", "m": "meters", "mi": "miles", "ft": "feet", "kg": "kilograms", "g": "grams",
    "mg": "milligrams", "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ml": "milliliters", "l": "liters",
    "°c": "degrees Celsius", "°f": "degrees Fahrenheit", "°": "degrees", "kb": "kilobytes", "mb": "megabytes",
    "gb": "gigabytes", "tb": "terabytes", "hz": "hertz", "khz": "kilohertz", "mhz": "megahertz",
    "ghz": "gigahertz", "kw": "kilowatts", "kwh": "kilowatt hours", "w": "watts", "v": "volts", "ms": "milliseconds",
    "s": "seconds", "sec": "seconds", "min": "minutes", "h": "hours", "hr": "hours", "hrs": "hours",
}
SINGULAR_UNITS = {"feet": "foot", "degrees": "degree", "hertz": "hertz", "inches": "inch"}
ABBREVIATIONS = {
    "dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor", "sr.": "Senior",
    "jr.": "Junior", "st.": "Saint", "mt.": "Mount", "ave.": "Avenue", "blvd.": "Boulevard", "rd.": "Road",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "vs.": "versus", "approx.": "approximately",
    "dept.": "department", "est.": "established", "inc.": "incorporated", "ltd.": "limited", "co.": "company",
    "gov.": "governor", "sen.": "senator", "rep.": "representative", "gen.": "general", "capt.": "captain",
    "lt.": "lieutenant", "sgt.": "sergeant", "no.": "number", "vol.": "volume", "fig.": "figure",
}
SPELLED_ACRONYMS = {"FBI", "CIA", "USA", "UK", "EU", "UN", "API", "CPU", "GPU", "URL", "HTTP", "HTTPS", "HTML", "CSS",
                    "PDF", "TTS", "AI", "ML", "CEO", "CTO", "DIY", "FAQ", "ID", "TV", "PC", "BBC", "CNN", "IBM",
                    "SQL", "USB", "DNA", "IT", "HR", "PR", "VIP", "ATM", "SUV", "BMW", "NYC", "LA", "DC", "AWS"}
SYMBOLS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "%": " percent", "#": " number "}
DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}

Rule = tuple[re.Pattern, Callable[[re.Match], str]]


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


def ordinal(number: int) -> str:
    return num2words(number, to="ordinal").replace(",", "").replace(" and ", " ")


def year(number: int) -> str:
    if 2000 <= number <= 2009:
        return cardinal(number)
    return num2words(number, to="year").replace("oh-", "oh ").replace(" and ", " ")


def digits(text: str) -> str:
    return " ".join(DIGIT_WORDS[int(d)] for d in text if d.isdigit())


def _money(match: re.Match) -> str:
    symbol, amount, scale = match.group("symbol"), match.group("amount"), (match.group("scale") or "").lower()
    one, many, cent, cents = CURRENCIES[symbol]
    if scale:
        return f"{decimal(amount)} {SCALES[scale]} {many}"
    whole, _, fraction = amount.replace(",", "").partition(".")
    units = int(whole or 0) if len(whole) <= 15 else -1
    parts = []
    if units or not fraction:
        parts.append(f"{decimal(whole or '0')} {one if units == 1 else many}")
    if fraction and int(fraction.ljust(2, "0")[:2]):
        hundredths = int(fraction.ljust(2, "0")[:2])
        parts.append(f"{cardinal(hundredths)} {cent if hundredths == 1 else cents}")
    return " and ".join(parts)


def _percent(match: re.Match) -> str:
    return f"{match.group('sign') and 'minus ' or ''}{decimal(match.group('number'))} percent"


def _ordinal(match: re.Match) -> str:
    number = match.group("number").replace(",", "")
    return ordinal(int(number)) if len(number) <= 15 else digits(number)


def _fraction(match: re.Match) -> str:
    numerator, denominator = int(match.group("num")), int(match.group("den"))
    if denominator == 0:
        return f"{cardinal(numerator)} over zero"
    singular, plural = FRACTION_NAMES.get(denominator, (ordinal(denominator), ordinal(denominator) + "s"))
    if numerator == 1:
        return f"one {singular}" if denominator != 2 else "one half"
    return f"{cardinal(numerator)} {plural}"


def _date_iso(match: re.Match) -> str:
    y, m, d = int(match.group("y")), int(match.group("m")), int(match.group("d"))
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return match.group(0).replace("-", " ")
    return f"{MONTHS[m - 1]} {ordinal(d)}, {year(y)}"


def _date_us(match: re.Match) -> str:
    m, d, y = int(match.group("m")), int(match.group("d")), match.group("y")
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return f"{cardinal(m)} slash {cardinal(d)} slash {cardinal(int(y))}"
    y = int(y) + (2000 if len(y) == 2 else 0)
    return f"{MONTHS[m - 1]} {ordinal(d)}, {year(y)}"


def month_name(token: str) -> str:
    key = token.rstrip(".").lower()
    return MONTH_ABBREVIATIONS.get(key) or MONTH_ABBREVIATIONS[key[:3]]


def _month_day(match: re.Match) -> str:
    spoken = f"{month_name(match.group('month'))} {ordinal(int(match.group('day')))}"
    if match.group("year"):
        spoken += f", {year(int(match.group('year')))}"
    return spoken


def _day_month(match: re.Match) -> str:
    spoken = f"the {ordinal(int(match.group('day')))} of {month_name(match.group('month'))}"
    if match.group("year"):
        spoken += f", {year(int(match.group('year')))}"
    return spoken


def _time(match: re.Match) -> str:
    given_minutes = match.groupdict().get("min")
    hours, minutes = int(match.group("h")), int(given_minutes or 0)
    suffix = (match.group("ampm") or "").lower().replace(".", "")
    if hours > 24 or minutes > 59:
        return f"{cardinal(hours)} {cardinal(minutes)}"
    if minutes == 0:
        spoken = f"{cardinal(hours)} o'clock" if not suffix and given_minutes else cardinal(hours)
    elif minutes < 10:
        spoken = f"{cardinal(hours)} oh {cardinal(minutes)}"
    else:
        spoken = f"{cardinal(hours)} {cardinal(minutes)}"
    end = "." if (match.group("ampm") or "").endswith(".") else ""  # a sentence's full stop, kept
    return f"{spoken} {' '.join(suffix.upper())}{end}" if suffix else spoken


def _phone(match: re.Match) -> str:
    groups = [g for g in (match.group("country"), match.group("area"), match.group("prefix"), match.group("line")) if g]
    return ", ".join(digits(g) for g in groups)


def _unit(match: re.Match) -> str:
    number, unit = match.group("number"), match.group("unit").lower()
    spoken_unit = UNITS[unit]
    if number.replace(",", "") in ("1", "1.0"):
        first, _, rest = spoken_unit.partition(" ")
        first = SINGULAR_UNITS.get(first, first[:-1] if first.endswith("s") else first)
        spoken_unit = f"{first} {rest}".strip()
    sign = "minus " if match.group("sign") else ""
    return f"{sign}{decimal(number)} {spoken_unit}"


def _email(match: re.Match) -> str:
    user, domain = match.group("user"), match.group("domain")
    return f"{_spoken_address(user)} at {_spoken_address(domain)}"


def _url(match: re.Match) -> str:
    address = re.sub(r"^https?://", "", match.group(0), flags=re.I).rstrip("/")
    address = re.sub(r"^www\.", "w w w dot ", address, flags=re.I)
    return _spoken_address(address)


def _spoken_address(text: str) -> str:
    for symbol, word in ((".", " dot "), ("/", " slash "), ("-", " dash "), ("_", " underscore "), (":", " colon "),
                         ("?", " question mark "), ("=", " equals "), ("&", " and ")):
        text = text.replace(symbol, word)
    return re.sub(r"\s+", " ", text).strip()


def _abbreviation(match: re.Match) -> str:
    lower = match.group(0).lower()
    if lower == "st.":  # "St. Louis" is a saint, "Main St." a street
        following = match.string[match.end():match.end() + 2].strip()
        return "Saint" if following[:1].isupper() else "Street"
    return ABBREVIATIONS[lower]


def _acronym(match: re.Match) -> str:
    word = match.group(0)
    plural = word.endswith("s") and word[:-1] in SPELLED_ACRONYMS
    letters = word[:-1] if plural else word
    return " ".join(letters) + ("'s" if plural else "")


def _decade(match: re.Match) -> str:
    number = int(match.group("year"))
    spoken = year(number)
    if spoken.endswith("y"):
        return spoken[:-1] + "ies"
    return spoken + "s"


def _year(match: re.Match) -> str:
    return f"{match.group('context')}{year(int(match.group('year')))}"


def _number(match: re.Match) -> str:
    sign = "minus " if match.group("sign") else ""
    return sign + decimal(match.group("number"))


def _symbol(match: re.Match) -> str:
    return SYMBOLS[match.group(0)]


NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
MONTH_NAMES = "|".join(m for m in MONTHS) + "|" + "|".join(
    m.capitalize() + r"\.?" for m in MONTH_ABBREVIATIONS)

RULES: list[Rule] = [
    (re.compile(r"\bhttps?://[^\s<>\"]+|\bwww\.[^\s<>\"]+", re.I), _url),
    (re.compile(r"(?<![\w.+-])(?P<user>[\w.+-]{1,64})@(?P<domain>[\w-]{1,63}(?:\.[\w-]{1,63}){1,8})"), _email),
    (re.compile(rf"(?P<symbol>[$€£¥])(?P<amount>{NUMBER})(?:\s?(?P<scale>[kKmMbBtT]|[mM]n|[bB]n)\b)?"), _money),
    (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})\s?%"), _percent),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), _date_iso),
    (re.compile(r"\b(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})\b"), _date_us),
    (re.compile(rf"\b(?P<month>{MONTH_NAMES})\s(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s(?P<year>\d{{4}})\b)?"),
     _month_day),
    (re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<month>{MONTH_NAMES})\b(?:,?\s(?P<year>\d{{4}})\b)?"),
     _day_month),
    (re.compile(r"(?:(?P<country>\+\d{1,3})[\s.-]?)?\(?(?P<area>\d{3})\)?[\s.-](?P<prefix>\d{3})[\s.-](?P<line>\d{4})\b"),
     _phone),
    (re.compile(r"\b(?P<h>\d{1,2}):(?P<min>\d{2})(?:\s?(?P<ampm>[aApP]\.?[mM]\.?))?(?![\d:])"), _time),
    (re.compile(r"\b(?P<h>\d{1,2})\s?(?P<ampm>[aApP]\.?[mM]\.?)(?!\w)"), _time),
    (re.compile(r"\b(?P<num>\d{1,3})/(?P<den>\d{1,3})\b"), _fraction),
    (re.compile(r"\b(?P<number>\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", re.I), _ordinal),
    (re.compile(r"\b(?P<year>1[1-9]\d0|20\d0)s\b"), _decade),
    (re.compile(r"(?P<context>\b(?:[Ii]n|[Ss]ince|[Bb]y|[Ff]rom|[Uu]ntil|[Tt]ill|[Oo]f|[Yy]ear|[Dd]uring|[Bb]efore|"
                r"[Aa]fter|[Cc]irca|[Ii]n the year)\s)(?P<year>10[5-9]\d|1[1-9]\d\d|20\d\d)\b"), _year),
    (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})\s?(?P<unit>km/h|°[CF]|°|(?:mph|km|cm|mm|mi|ft|kg|mg|lbs|lb|oz|ml|"
                rf"kwh|kw|khz|mhz|ghz|hz|kb|mb|gb|tb|hrs|hr|sec|min|ms|m|g|l|w|v|s|h)\b)", re.I), _unit),
    (re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
                + r")(?!\w)", re.I), _abbreviation),
    (re.compile(r"\b(?:" + "|".join(sorted(SPELLED_ACRONYMS, key=len, reverse=True)) + r")s?\b"), _acronym),
    (re.compile(rf"(?<![\w-])(?P<sign>-)?(?P<number>{NUMBER})\b"), _number),
    (re.compile(r"[&@+=#%]"), _symbol),
]


def normalize(text: str) -> str:
    """The spoken form of `text` (English)."""
    for pattern, spoken in RULES:
        text = pattern.sub(spoken, text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
