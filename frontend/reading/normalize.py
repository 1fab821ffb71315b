"""English text normalization: what a reader says for numbers, money, dates, times, units, addresses
and symbols, written out in words before G2P.

Each rule is one regular expression without nested unbounded repetition (so matching stays linear in the
input, even on adversarial text) and a function that returns the spoken form. Rules run in order, most
specific first (addresses before abbreviations, dates and phone numbers before ranges, money before plain
numbers, units before years). A function may hand its match back unchanged, or rewrite it into a form a
later rule reads ("10-20" becomes "10 to 20"). Functions that look at the neighbouring words look at a
bounded window only.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from num2words import num2words

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
MONTH_ABBREVIATIONS = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
WEEKDAY_NAMES = {day[:length].lower(): day for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                         "Saturday", "Sunday") for length in (3, len(day))} | {
    "tues": "Tuesday", "thur": "Thursday", "thurs": "Thursday"}
WEEKDAYS = set(WEEKDAY_NAMES)
CURRENCIES = {  # symbol: (singular, plural, cent singular, cent plural); cents themselves have no smaller unit
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"),
    "¢": ("cent", "cents", None, None),
}
SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion", "t": "trillion"} | {
    word: word for word in ("thousand", "million", "billion", "trillion")}
UNITS = {
    "km/h": "kilometers per hour", "mph": "miles per hour", "km": "kilometers", "cm": "centimeters",
    "mm": "millimeters", "m": "meters", "mi": "miles", "ft": "feet", "kg": "kilograms", "g": "grams",
    "mg": "milligrams", "lb": "pounds", "lbs": "pounds", "oz": "ounces", "ml": "milliliters", "l": "liters",
    "°c": "degrees Celsius", "°f": "degrees Fahrenheit", "°": "degrees", "kb": "kilobytes", "mb": "megabytes",
    "gb": "gigabytes", "tb": "terabytes", "hz": "hertz", "khz": "kilohertz", "mhz": "megahertz",
    "ghz": "gigahertz", "kw": "kilowatts", "kwh": "kilowatt hours", "w": "watts", "v": "volts", "ms": "milliseconds",
    "s": "seconds", "sec": "seconds", "min": "minutes", "h": "hours", "hr": "hours", "hrs": "hours",
    "tbsp": "tablespoons", "tsp": "teaspoons", "gal": "gallons", "yd": "yards", "fps": "frames per second",
    "rpm": "revolutions per minute", "kbps": "kilobits per second", "mbps": "megabits per second",
    "gbps": "gigabits per second", "mah": "milliamp hours",
    "mcg": "micrograms", "µg": "micrograms", "μg": "micrograms", "fl oz": "fluid ounces", "qt": "quarts",
    "cl": "centiliters", "pb": "petabytes", "kib": "kibibytes", "mib": "mebibytes", "gib": "gibibytes",
    "tib": "tebibytes", "kbit/s": "kilobits per second", "mbit/s": "megabits per second",
    "gbit/s": "gigabits per second", "kph": "kilometers per hour", "m/s": "meters per second",
    "km/s": "kilometers per second", "ft/s": "feet per second", "m/s²": "meters per second squared",
    "ha": "hectares", "nm": "nanometers", "µm": "micrometers", "μm": "micrometers", "kcal": "kilocalories",
    "psi": "P S I", "MW": "megawatts", "GW": "gigawatts", "mW": "milliwatts", "mA": "milliamps",
    "m²": "square meters", "m2": "square meters", "km²": "square kilometers", "km2": "square kilometers",
    "cm²": "square centimeters", "cm2": "square centimeters", "ft²": "square feet", "sq ft": "square feet",
    "sq mi": "square miles", "sq m": "square meters", "sq km": "square kilometers", "m³": "cubic meters",
    "m3": "cubic meters", "cm³": "cubic centimeters", "cm3": "cubic centimeters",
}
SINGULAR_UNITS = {"feet": "foot", "hertz": "hertz", "inches": "inch", "kilowatt hours": "kilowatt hour",
                  "milliamp hours": "milliamp hour"}
UNIT_QUALIFIERS = {"square", "cubic", "fluid"}  # "one square meter": the word after them is the unit
ABBREVIATIONS = {
    "dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "prof.": "Professor", "sr.": "Senior",
    "jr.": "Junior", "st.": "Saint", "mt.": "Mount", "ave.": "Avenue", "blvd.": "Boulevard", "rd.": "Road",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "vs.": "versus", "approx.": "approximately",
    "dept.": "department", "est.": "established", "inc.": "incorporated", "ltd.": "limited", "co.": "company",
    "gov.": "governor", "sen.": "senator", "rep.": "representative", "gen.": "general", "capt.": "captain",
    "lt.": "lieutenant", "sgt.": "sergeant", "no.": "number", "vol.": "volume", "fig.": "figure",
    "et al.": "and others", "cf.": "compare", "viz.": "namely", "ca.": "circa", "col.": "colonel",
    "rev.": "Reverend", "fr.": "Father", "hon.": "Honorable", "adm.": "admiral", "maj.": "major",
    "cpl.": "corporal", "pvt.": "private", "ft.": "Fort", "corp.": "Corporation", "bros.": "Brothers",
    "univ.": "University", "assn.": "Association", "ext.": "extension", "tel.": "telephone", "pp.": "pages",
}
TITLE_OR_PLACE = {"dr.": ("Doctor", "Drive"), "st.": ("Saint", "Street")}  # "Dr. Lee" / "Elm Dr."
UNIT_ABBREVIATIONS = {"ms.", "ft."}  # after a number, "200 ms." and "3 ft." are units, not Miz or Fort
SENTENCE_FINAL_ABBREVIATIONS = {"etc.", "inc.", "ltd.", "co.", "jr.", "sr.", "ave.", "blvd.", "rd.", "dept.",
                                "et al.", "corp.", "univ.", "assn."}
SPELLED_ACRONYMS = {"FBI", "CIA", "USA", "UK", "EU", "UN", "API", "CPU", "GPU", "URL", "HTTP", "HTTPS", "HTML", "CSS",
                    "PDF", "TTS", "AI", "ML", "CEO", "CTO", "DIY", "FAQ", "ID", "TV", "PC", "BBC", "CNN", "IBM",
                    "SQL", "USB", "DNA", "IT", "HR", "PR", "VIP", "ATM", "SUV", "BMW", "NYC", "LA", "DC", "AWS",
                    "NBA", "IRS", "FDA", "UFO", "SEC", "EPA", "MBA", "ICU", "IOU", "IQ", "UV", "EV", "ETA", "OS",
                    "AD", "BCE", "CE", "UAE", "USSR", "UCLA", "MIT", "NYU", "ESPN", "ASAP"}
VOWELS = set("AEIOUY")  # an all-capital word without one cannot be read as a word, so it is spelled ("NFL")
TIME_ZONES = "UTC|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|AKST|HST|ET|CT|MT|PT|CET|CEST|BST|IST|JST|AEST|AEDT"
SYMBOLS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "%": " percent", "#": " number ",
           "©": " copyright "}
DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}
FRACTION_GLYPHS = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
                   "⅞": "7/8"}
FRACTION_IDIOMS = {"24/7": "twenty-four seven", "9/11": "nine eleven", "50/50": "fifty-fifty",
                   "20/20": "twenty-twenty"}
DATE_CONTEXT = {"on", "due", "until", "till", "since", "before", "after", "through", "thru", "by", "dated",
                "starting", "expires", "expiring"} | WEEKDAYS  # "due 3/15" is a date, "add 3/4" a fraction
YEAR_CONTEXT = {"in", "since", "by", "from", "until", "till", "of", "year", "during", "before", "after", "circa"}
# After these a four-digit number is a year whatever follows ("since 1990 prices rose"); after the rest of
# YEAR_CONTEXT only when it looks like a modern year ("in 2019 sales fell", but "in 1500 cases").
YEAR_ANNOUNCERS = {"since", "year", "during", "circa", "until", "till", "born", "founded", "established", "vintage"}
PERIOD_NAMES = {"class", "summer", "spring", "fall", "autumn", "winter", "year", "end", "start", "beginning"}
MODERN_YEARS = range(1900, 2100)
# Numbers read digit by digit: after these words (a little filler between allowed: "the door code is 4821"),
# the emergency numbers next to "call", and any number written with a leading zero ("0042", "007").
DIGIT_CONTEXT = {"pin", "code", "passcode", "password", "combination", "otp", "extension", "account", "zip",
                 "postcode", "ending", "serial", "confirmation", "tracking", "reference", "routing"}
DIGIT_FILLERS = {"is", "was", "in", "number", "no.", "#"}
EMERGENCY_NUMBERS = {"911", "999", "112", "000"}
EMERGENCY_CONTEXT = {"call", "dial", "ring", "text", "phone", "calls", "called", "calling", "operator", "dispatcher",
                     "dispatchers", "line"}
# Roman numerals: after a monarch's or pope's name an ordinal ("Henry the eighth"); after these words, or as a
# numbered sequel after a capitalized title ("Rocky II", only I/V/X, two letters or more), a cardinal.
REGNAL_NAMES = {"Henry", "Elizabeth", "Louis", "George", "Edward", "Charles", "William", "James", "Richard", "John",
                "Paul", "Pius", "Benedict", "Gregory", "Leo", "Innocent", "Clement", "Urban", "Boniface", "Philip",
                "Frederick", "Peter", "Catherine", "Mary", "Victoria", "Alexander", "Nicholas", "Ivan", "Ramesses",
                "Constantine", "Otto", "Wilhelm", "Carlos", "Juan", "Felipe", "Alfonso", "Ferdinand", "Francis",
                "Napoleon", "Harald", "Olaf", "Gustav", "Christian", "Haakon", "Rama", "Elagabalus", "Anne", "David",
                "Robert", "Stephen", "Sixtus", "Julius", "Leopold", "Rudolf", "Sigismund", "Casimir"}
ROMAN_CONTEXT = {"chapter", "act", "scene", "volume", "part", "book", "war", "episode", "phase", "title", "bowl",
                 "section", "article", "appendix", "stage", "level", "class", "type", "grade", "canto", "psalm",
                 "season", "round", "tier", "division", "category", "unit", "apollo"}
ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
COUNT_CONTEXT = {"number", "page", "pages", "about", "over", "under", "than", "nearly", "almost", "approximately",
                 "only", "just", "some", "least", "most", "exactly", "total", "another"}
YEAR_FOLLOWERS = {  # lowercase words after which a four-digit number is still a year ("1999 was", not "1999 people")
    "was", "is", "were", "will", "would", "could", "had", "has", "have", "saw", "brought", "began", "ended", "marked",
    "and", "or", "to", "through", "until", "till", "when", "where", "while", "as", "at", "in", "on", "for", "the",
    "a", "an", "but", "with", "after", "before", "during", "season", "election", "elections", "census", "edition",
    "model", "olympics", "summer", "winter", "spring", "fall", "autumn", "budget", "report", "vintage", "release",
}
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


def words_before(match: re.Match, count: int) -> list[str]:
    """Up to `count` whitespace-separated words right before the match (from a bounded window)."""
    return match.string[max(0, match.start() - 60):match.start()].split()[-count:]


def word_after(match: re.Match) -> str:
    """The word after the match when whitespace separates them ('' otherwise), from a bounded window."""
    following = NEXT_WORD.match(match.string[match.end():match.end() + 40])
    return following.group(1) if following else ""


def text_ends(match: re.Match) -> bool:
    """Whether nothing but whitespace follows the match."""
    return not match.string[match.end():match.end() + 40].strip()


def ends_sentence(match: re.Match) -> bool:
    """Whether a match that took a full stop ends its sentence: the text ends or a capital follows."""
    return word_after(match)[:1].isupper() or text_ends(match)


def _spoken_amount(amount: str, names: tuple, scale: str) -> str:
    one, many, cent, cents = names
    if scale:
        return f"{decimal(amount)} {SCALES[scale]} {many}"
    if cent is None:
        return f"{decimal(amount)} {one if amount == '1' else many}"
    whole, _, fraction = amount.replace(",", "").partition(".")
    units = int(whole or 0) if len(whole) <= 15 else -1
    parts = []
    if units or not fraction:
        parts.append(f"{decimal(whole or '0')} {one if units == 1 else many}")
    if fraction and int(fraction.ljust(2, "0")[:2]):
        hundredths = int(fraction.ljust(2, "0")[:2])
        parts.append(f"{cardinal(hundredths)} {cent if hundredths == 1 else cents}")
    return " and ".join(parts)


def _money(match: re.Match) -> str:
    groups = match.groupdict()
    sign = "minus " if groups.get("sign") else ""
    scale = (groups.get("scale") or "").lower()
    return sign + _spoken_amount(groups["amount"], CURRENCIES[groups["symbol"]], scale)


def _percent(match: re.Match) -> str:
    return f"{match.group('sign') and 'minus ' or ''}{decimal(match.group('number'))} percent"


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


def unit_name(written: str) -> str:
    """The plural name of a unit as written ('MW' megawatts, 'mW' milliwatts, 'Km' kilometers)."""
    return UNITS.get(written) or UNITS[re.sub(r"\s+", " ", written.lower().replace(".", ""))]


def with_unit(spoken: str, match: re.Match, plural: bool) -> str:
    """A fraction's spoken form followed by its unit, if one was written ("1/2 tsp", "1 1/2 cups")."""
    unit = match.group("unit")
    if not unit:
        return spoken
    return f"{spoken} {unit_name(unit) if plural else singular_unit(unit_name(unit))}"


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
    if previous and previous[0].lower().rstrip(",") in DATE_CONTEXT and 1 <= numerator <= 12 and 1 <= denominator <= 31:
        return f"{MONTHS[numerator - 1]} {ordinal(denominator)}"
    if denominator == 0:
        return f"{cardinal(numerator)} over zero"
    return f"{cardinal(numerator)} {fraction_name(numerator, denominator)}"


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


def month_name(token: str) -> str:
    key = token.rstrip(".").lower()
    return MONTH_ABBREVIATIONS.get(key) or MONTH_ABBREVIATIONS[key[:3]]


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


def _time(match: re.Match) -> str:
    given_minutes = match.groupdict().get("min")
    hours, minutes = int(match.group("h")), int(given_minutes or 0)
    suffix = (match.group("ampm") or "").lower().replace(".", "")
    if hours > 24 or minutes > 59:  # no clock: a ratio ("a 50:50 split")
        return _ratio(match)
    if minutes == 0 and given_minutes and not suffix:  # "12:00" twelve o'clock, "15:00" fifteen hundred
        spoken = f"{cardinal(hours)} o'clock" if 1 <= hours <= 12 else f"{cardinal(hours)} hundred"
    elif minutes == 0:
        spoken = cardinal(hours)
    elif minutes < 10:
        spoken = f"{cardinal(hours)} oh {cardinal(minutes)}"
    else:
        spoken = f"{cardinal(hours)} {cardinal(minutes)}"
    zone = match.group("zone")
    end = "." if (match.group("ampm") or "").endswith(".") and not zone and ends_sentence(match) else ""
    spoken = f"{spoken} {' '.join(suffix.upper())}{end}" if suffix else spoken  # "... 9 p.m. Then"
    return f"{spoken} {letters(zone)}" if zone else spoken


def _military_time(match: re.Match) -> str:
    """'0800 hours' -> 'oh eight hundred hours', 'at 1430 hours' -> 'fourteen thirty hours'."""
    hours, minutes = match.group("h"), int(match.group("min"))
    if not (hours.startswith("0") or (words_before(match, 1) or [""])[0].lower() == "at"):
        return match.group(0)  # "logged 1500 hours" counts hours
    spoken = f"oh {cardinal(int(hours))}" if hours.startswith("0") else cardinal(int(hours))
    return f"{spoken} {'hundred' if minutes == 0 else f'oh {cardinal(minutes)}' if minutes < 10 else cardinal(minutes)}"


def _dotted_clock(match: re.Match) -> str:
    return f"{match.group('h')}:{match.group('min')}"


def _time_range_start(match: re.Match) -> str:
    return f"{match.group('start')} to "


def _named_range(match: re.Match) -> str:
    """'Mon-Fri' -> 'Monday through Friday': a span of named days or months is read inclusive, as American
    newsreaders say it."""
    return f"{full_name(match.group('a'))} through {full_name(match.group('b'))}"


def full_name(token: str) -> str:
    key = token.rstrip(".").lower()
    return WEEKDAY_NAMES.get(key) or month_name(token)


def _duration(match: re.Match) -> str:
    """'3:45:10' -> 'three hours forty-five minutes ten seconds' (zero parts left out)."""
    amounts = zip((int(match.group(g)) for g in ("h", "min", "s")), ("hour", "minute", "second"))
    spoken = [f"{cardinal(count)} {name}{'' if count == 1 else 's'}" for count, name in amounts if count]
    return " ".join(spoken) or "zero seconds"


def _height(match: re.Match) -> str:
    """'6'2"' -> 'six foot two', as heights are said; '5 ft 10 in' -> 'five feet ten inches' as written."""
    feet, inches = int(match.group("feet")), int(match.group("inches") or 0)
    if match.groupdict().get("written"):
        feet_word, inch_word = "foot" if feet == 1 else "feet", "inch" if inches == 1 else "inches"
        return f"{cardinal(feet)} {feet_word} {cardinal(inches)} {inch_word}"
    joiner = "-" if match.groupdict().get("hyphen") else " "
    return joiner.join([cardinal(feet), "foot"] + ([cardinal(inches)] if inches else []))


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


def _era_year(match: re.Match) -> str:
    """'476 AD' -> 'four seventy-six A D', 'AD 79' -> 'A D seventy-nine': years read in pairs."""
    spoken_year = year(int(match.group("number")))
    era_before = match.groupdict().get("era_before")
    era = era_before or match.group("era_after")
    return f"{letters(era)} {spoken_year}" if era_before else f"{spoken_year} {letters(era)}"


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
    return sum(-v if v < after else v for v, after in zip(values, values[1:] + [0]))


def _phone(match: re.Match) -> str:
    groups = [g for g in re.split(r"\D+", match.group(0)) if g]
    return ", ".join(digits(g) for g in groups)


def _local_phone(match: re.Match) -> str:
    """'555-1234' is a local number; '200-1000', both round, a range that a later rule reads."""
    if match.group("prefix").endswith("0") and match.group("line").endswith("0"):
        return match.group(0)
    return _phone(match)


def _range(match: re.Match) -> str:
    first_symbol, second_symbol = match.group("symbol") or "", match.group("symbol2") or ""
    return f"{first_symbol}{match.group('a')} to {second_symbol or first_symbol}{match.group('b')}"


def _unit(match: re.Match) -> str:
    number = match.group("number")
    if match.group(0).endswith("0s") and word_after(match) == "of":  # "1,000s of rows": thousands
        return plural_number(number)
    spoken_unit = unit_name(match.group("unit"))
    if number.replace(",", "") in ("1", "1.0"):
        spoken_unit = singular_unit(spoken_unit)
    sign = "minus " if match.group("sign") else ""
    return f"{sign}{decimal(number)} {spoken_unit}"


def plural_number(number: str) -> str:
    spoken = decimal(number).removeprefix("one ")
    return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"


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


def _version(match: re.Match) -> str:
    parts = match.group("version").split(".")
    is_address = not match.group("v") and len(parts) == 4 and all(int(p) <= 255 for p in parts)
    spoken = (" dot " if is_address else " point ").join(cardinal(int(p)) for p in parts)
    return f"version {spoken}" if match.group("v") else spoken


def _number_with_letters(match: re.Match) -> str:
    return f"{decimal(match.group('number'))} {' '.join(match.group('letters'))}"


def _ratio(match: re.Match) -> str:
    first, second = match.groupdict().get("a") or match.group("h"), match.groupdict().get("b") or match.group("min")
    return FRACTION_IDIOMS.get(f"{first}/{second}") or f"{first} to {second}"  # "50:50" is fifty-fifty too


def _letters_and_number(match: re.Match) -> str:
    return f"{match.group('letters')} {match.group('number')}"


def _per(match: re.Match) -> str:
    return " per "


def _email(match: re.Match) -> str:
    user, domain = match.group("user"), match.group("domain")
    return f"{_spoken_address(user)} at {_spoken_address(domain)}"


def _url(match: re.Match) -> str:
    """The address in words; punctuation that ends the sentence after it stays."""
    address = match.group(0).rstrip(".,;:!?)]'\"")
    trailing = match.group(0)[len(address):]
    address = re.sub(r"^https?://", "", address, flags=re.I).rstrip("/")
    address = re.sub(r"^www\.", "w w w dot ", address, flags=re.I)
    return _spoken_address(address) + trailing


def _spoken_address(text: str) -> str:
    for symbol, word in ((".", " dot "), ("/", " slash "), ("-", " dash "), ("_", " underscore "), (":", " colon "),
                         ("?", " question mark "), ("=", " equals "), ("&", " and "), ("+", " plus ")):
        text = text.replace(symbol, word)
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)  # "page2" -> "page 2", read later
    return re.sub(r"\s+", " ", text).strip()


def _abbreviation(match: re.Match) -> str:
    lower = match.group(0).lower()
    if lower == "no.":  # "No. 5" is a number; "I said no." is a word
        return "number " if match.string[match.end():match.end() + 2].strip()[:1].isdigit() else match.group(0)
    if lower in UNIT_ABBREVIATIONS and (words_before(match, 1) or [""])[0][-1:].isdigit():  # "200 ms." is a unit
        return match.group(0) if ends_sentence(match) else match.group(0)[:-1]
    spoken = title_or_place(match, *TITLE_OR_PLACE[lower]) if lower in TITLE_OR_PLACE else ABBREVIATIONS[lower]
    following = word_after(match)
    can_end_sentence = lower in SENTENCE_FINAL_ABBREVIATIONS or spoken in ("Street", "Drive")
    new_sentence = following[:1].isupper() and following.lower() not in ABBREVIATIONS  # not "Co. Ltd."
    return spoken + "." if text_ends(match) or (can_end_sentence and new_sentence) else spoken


def title_or_place(match: re.Match, title: str, place: str) -> str:
    """'Dr. Lee', 'in St. Louis', 'Yesterday Dr. Lee' are titles; 'Elm Dr.', 'Main St. in', '5th St.' and
    'on Elm Dr. Then' (a name inside a sentence before it) end a street's name."""
    before = words_before(match, 2)
    previous = before[-1] if before else ""
    after_name = previous[:1].isdigit() or (previous.isalpha() and previous[:1].isupper())
    starts_sentence = len(before) < 2 or before[0][-1:] in ".!?:"
    name_follows = word_after(match)[:1].isupper()
    return place if after_name and not (name_follows and starts_sentence) else title


def _acronym(match: re.Match) -> str:
    """Known initialisms and capitals that no one could read as a word are spelled; the rest (NASA) are read."""
    written, plural = match.group("letters"), match.group("plural")
    unreadable = not VOWELS & set(written) and f"{written.lower()}." not in ABBREVIATIONS  # not "DR", "ST"
    if written not in SPELLED_ACRONYMS and not unreadable:
        return match.group(0)
    return " ".join(written) + ("'s" if plural else "")


def _dotted_initialism(match: re.Match) -> str:
    """'U.S.' -> 'U S', keeping the full stop where it ends the sentence."""
    return letters(match.group(0)) + ("." if ends_sentence(match) else "")


def _decade(match: re.Match) -> str:
    context, number = match.group("context") or "", match.group("decade")
    if len(number) == 2 and not (context or match.group("apostrophe")):  # "30s" alone is thirty seconds
        return match.group(0)
    spoken = year(int(number)) if len(number) == 4 else cardinal(int(number))
    return context + (spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s")


def _abbreviated_year(match: re.Match) -> str:
    return two_digit_year(match.group("year"))


def _times(match: re.Match) -> str:
    return f"{decimal(match.group('number'))} times"


def _year(match: re.Match) -> str:
    number = int(match.group("year"))
    before = [w.lower() for w in words_before(match, 2)]
    previous = before[-1] if before else ""
    following = re.match(r"[a-z]*", word_after(match)).group(0)
    if previous in YEAR_ANNOUNCERS or (previous == "of" and before[0] in PERIOD_NAMES):  # "the class of 2027"
        return year(number) if number >= 1000 else match.group(0)
    if previous in YEAR_CONTEXT and number in MODERN_YEARS:  # "in 2019 sales fell"
        return year(number)
    plausible = 1100 <= number <= 2099 or (previous in YEAR_CONTEXT and number >= 1000)
    counts_something = previous in COUNT_CONTEXT or (following and following not in YEAR_FOLLOWERS)
    return match.group(0) if counts_something or not plausible else year(number)


def _number(match: re.Match) -> str:
    sign = "minus " if match.group("sign") else ""
    return sign + decimal(match.group("number"))


def _symbol(match: re.Match) -> str:
    return SYMBOLS[match.group(0)]


def _optional_plural(match: re.Match) -> str:
    """'file(s)' is read as its plural, 'files', which covers the one too."""
    return match.group(0)[1]


NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
MONTH_NAMES = "|".join(m for m in MONTHS) + "|" + "|".join(
    m.capitalize() + r"\.?" for m in MONTH_ABBREVIATIONS)
TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|io|ai|dev|app|co|uk|us|info|me|tv"
CURRENCY = "[$€£¥]"
CLOCK = r"\d{1,2}:\d\d(?!\d)"
AM_PM = r"[aApP]\.?[mM]\.?"
UNIT = (r"(?P<unit>km/h|m/s²|(?:k?m|ft)/s|(?i:[kmg]bit/s)|°[CF]|°|fl\.? oz|sq\.? (?:ft|mi|km|m)\b|(?:[kc]?m|ft)[²³]|"
        r"[kc]?m[23]\b|[µμ][gm]\b|(?:MW|GW|mW|mA)\b|"
        r"(?i:mph|km|cm|mm|mi|ft|kg|mg|mcg|lbs|lb|oz|ml|cl|qt|kwh|kw|khz|mhz|ghz|hz|kbps|mbps|gbps|kb|mb|gb|tb|pb|kib|"
        r"mib|gib|tib|hrs|hr|sec|min|ms|tbsp|tsp|gal|yd|fps|rpm|mah|kph|ha|nm|kcal|psi)\b|"
        r"[mglLWVsh]\b)")  # single letters: "5G" is no gram
NAMED_DAYS = "|".join(sorted((key.capitalize() for key in WEEKDAY_NAMES), key=len, reverse=True))

RULES: list[Rule] = [
    (re.compile(r"\bhttps?://[^\s<>\"]+|\bwww\.[^\s<>\"]+|(?<![\w.@/-])[A-Za-z][\w-]{0,62}(?:\.[\w-]{1,63}){0,5}"
                rf"\.(?:{TOP_LEVEL_DOMAINS})(?![.-]?\w|@)(?:/[^\s<>\"]*)?", re.I), _url),
    (re.compile(r"(?<![\w.+-])(?P<user>[\w.+-]{1,64})@(?P<domain>[\w-]{1,63}(?:\.[\w-]{1,63}){1,8})"), _email),
    (re.compile(r"(?<=[A-Za-z])\([sS]\)(?!\w)"), _optional_plural),
    (re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))
                + r")(?![^\W\d])", re.I), _abbreviation),
    (re.compile(r"\b(?P<numeral>[IVXLCDM]{1,7})\b"), _roman),
    (re.compile(r"\b(?P<word>[Ff]light)\s(?:(?P<code>[A-Z]{2}|[A-Z]\d|\d[A-Z])\s?)?(?P<number>\d{1,4})\b"), _flight),
    (re.compile(r"(?<![\w.])(?P<feet>\d)\s?['′]\s?(?:(?P<inches>1[01]|\d)\s?(?:[\"″]|'')?)?(?![\w'′])"), _height),
    (re.compile(r"\b(?P<feet>\d)\s?(?P<written>ft)\.?\s?(?P<inches>1[01]|\d)\s?in\b"), _height),
    (re.compile(r"\b(?P<feet>\d)(?P<hyphen>-)foot-(?P<inches>1[01]|\d)\b"), _height),
    (re.compile(r"(?<![\w.,:])(?P<h>[01]\d|2[0-3])(?P<min>[0-5]\d)(?=\s?hours\b)"), _military_time),
    (re.compile(r"(?<![\w+.-])0\d{2,4}[\s-]\d{3,4}[\s-]\d{3,4}\b"), _phone),
    (re.compile(r"\b(?P<number>\d{1,4})\s?(?P<era_after>BCE|BC|AD|CE)\b"), _era_year),
    (re.compile(r"\b(?P<era_before>AD)\s?(?P<number>\d{1,4})\b"), _era_year),
    (re.compile(r"\b(?P<y>\d{4})(?P<sep>[-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?:T(?=\d)|\b)"), _date_iso),
    (re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b(?!\.\d)"), _date_day_first),
    (re.compile(r"\b(?P<m>\d{1,2})(?P<sep>[/-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b"),
     _date_us),
    (re.compile(rf"\b(?P<month>{MONTH_NAMES})\s(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
                rf"(?:[-–](?P<last>\d{{1,2}})(?:st|nd|rd|th)?\b)?(?:,?\s(?P<year>\d{{4}})\b)?"), _month_day),
    (re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<month>{MONTH_NAMES})\b(?:,?\s(?P<year>\d{{4}})\b)?"),
     _day_month),
    (re.compile(r"(?:(?:\+\d{1,3}|(?<![\w-])1(?=[\s.-]))[\s.-]?)?\(?\d{3}(?:\)[\s-]?|[\s.-])\d{3}[\s.-]\d{4}\b"),
     _phone),
    (re.compile(r"\+\d{1,3}(?:[\s.-]\(?\d{1,8}\)?){2,5}(?![\d-])"), _phone),
    (re.compile(r"(?<![\w.-])(?P<prefix>[2-9]\d\d)-(?P<line>\d{4})(?![\w-]|\.\d)"), _local_phone),
    (re.compile(r"(?<![\w.,$€£¥#/:+-])\d{2,}(?:-\d{2,})*(?![\w%°/:'′-]|[.,]\d)"), _digit_string),
    (re.compile(rf"\b(?P<a>{NAMED_DAYS}|{MONTH_NAMES})\s?[-–—]\s?(?P<b>{NAMED_DAYS}|{MONTH_NAMES})(?!\w)"),
     _named_range),
    (re.compile(rf"(?<![\w.,])(?P<h>\d{{1,2}})\.(?P<min>[0-5]\d)(?=\s?{AM_PM}(?!\w))"), _dotted_clock),
    (re.compile(rf"(?<![\w.:])(?P<start>\d{{1,2}}(?::\d\d)?\s?{AM_PM})\s?[-–—]\s?(?=\d)"), _time_range_start),
    (re.compile(rf"(?<![\w.,/:–-])(?P<symbol>{CURRENCY})?(?P<a>{CLOCK}|{NUMBER})(?:-|\s?[–—]\s?)"
                rf"(?P<symbol2>{CURRENCY})?(?!0\d)(?P<b>{CLOCK}|{NUMBER})(?![\d:/–-]|[.,]\d)"), _range),
    (re.compile(rf"(?:(?<![\w-])(?P<sign>-))?(?P<symbol>{CURRENCY})(?P<amount>{NUMBER})"
                r"(?:\s?(?P<scale>thousand|million|billion|trillion|[kKmMbBtT]|[mM]n|[bB]n)\b)?"), _money),
    (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<amount>{NUMBER})\s?(?P<symbol>[$€£¥¢])"), _money),
    (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})\s?%"), _percent),
    (re.compile(r"(?<![\w.,])(?P<v>[vV])?(?P<version>\d{1,4}(?:\.\d{1,4}){2,5})(?!\w|\.\d)"), _version),
    (re.compile(r"\b(?P<h>\d{1,2}):(?P<min>[0-5]\d):(?P<s>[0-5]\d)\b(?![:.]\d)"), _duration),
    (re.compile(rf"\b(?P<h>\d{{1,2}}):(?P<min>\d{{2}})(?:\s?(?P<ampm>{AM_PM}))?(?![\d:])"
                rf"(?:\s(?P<zone>{TIME_ZONES})\b)?"), _time),
    (re.compile(rf"\b(?P<h>\d{{1,2}})\s?(?P<ampm>{AM_PM})(?!\w)(?:\s(?P<zone>{TIME_ZONES})\b)?"), _time),
    (re.compile(r"\b(?P<a>\d{1,3}):(?P<b>\d{1,3})\b(?!:)"), _ratio),
    (re.compile(r"(?:(?<!\d)(?P<whole>\d+)\s?)?(?P<glyph>[" + "".join(FRACTION_GLYPHS) + "])"), _fraction_glyph),
    (re.compile(rf"\b(?P<whole>\d{{1,3}})\s(?P<num>\d{{1,2}})/(?P<den>\d{{1,2}})\b(?!/)(?:\s?{UNIT})?"), _mixed_number),
    (re.compile(rf"\b(?P<num>\d{{1,3}})/(?P<den>\d{{1,3}})\b(?:\s?{UNIT})?"), _fraction),
    (re.compile(r"\b(?P<number>\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)\b", re.I), _ordinal),
    (re.compile(r"(?P<context>\b(?:[Tt]he|[Hh]er|[Hh]is|[Tt]heir|[Mm]y|[Yy]our|[Oo]ur|[Ee]arly|[Mm]id|[Ll]ate)[\s-])?"
                r"(?P<apostrophe>['’])?\b(?P<decade>1[1-9]\d0|20\d0|[1-9]0)['’]?s\b"), _decade),
    (re.compile(r"(?<!\w)['’](?P<year>\d\d)\b(?!['’])"), _abbreviated_year),
    (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})\s?{UNIT}"), _unit),
    (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})(?P<scale>k|M|mn|bn)\b"), _scaled_number),
    (re.compile(rf"(?<![\w.,])(?P<number>{NUMBER})x\b"), _times),
    (re.compile(r"\b(?P<letters>[A-Za-z]{1,6})-?(?P<number>\d{1,4})\b(?![.,-]\d)"), _letters_and_number),
    (re.compile(r"(?<![\w.,$€£¥#/:+-])(?P<year>\d{4})(?![\w%°/:-]|[.,]\d)"), _year),
    (re.compile(r"(?<![\w.,])(?P<number>\d+)(?P<letters>[A-Z]{1,3})\b"), _number_with_letters),
    (re.compile(r"(?<=\w)/(?=(?:month|year|week|day|hour|night|person|unit|item)\b)"), _per),
    (re.compile(r"(?<![\w.])(?:[A-Z]\.){2,6}(?!\w)"), _dotted_initialism),
    (re.compile(r"\b(?P<letters>[A-Z]{2,5})(?P<plural>s)?\b"), _acronym),
    (re.compile(rf"(?<![\w-])(?P<sign>-)?(?P<number>{NUMBER})\b"), _number),
    (re.compile(r"[&@+=#%©]"), _symbol),
]


# Categories a request may turn off (Kokoro-FastAPI's normalization_options), each with the rules it names.
CATEGORIES = {"urls": {_url}, "emails": {_email}, "phones": {_phone, _local_phone}, "units": {_unit},
              "optional_plurals": {_optional_plural}, "symbols": {_symbol}}


def normalize(text: str, skip: frozenset[str] = frozenset()) -> str:
    """The spoken form of `text` (English), without the rules of the CATEGORIES in `skip`."""
    skipped = {rule for category in skip for rule in CATEGORIES[category]}
    for pattern, spoken in RULES:
        if spoken not in skipped:
            text = pattern.sub(spoken, text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
