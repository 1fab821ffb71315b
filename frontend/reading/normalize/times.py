"""Clock times with a.m./p.m. and zones, 24-hour and military times, durations written as clocks or compactly
("2h30m")."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import TIME_ZONE_NAMES, TIME_ZONES
from frontend.reading.normalize.numbers import _ratio
from frontend.reading.normalize.spoken import AM_PM, Rule, cardinal, ends_sentence, letters, words_before


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
    return f"{spoken} {TIME_ZONE_NAMES.get(zone) or letters(zone)}" if zone else spoken


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


def _duration(match: re.Match) -> str:
    """'3:45:10' -> 'three hours forty-five minutes ten seconds' (zero parts left out)."""
    amounts = zip((int(match.group(g)) for g in ("h", "min", "s")), ("hour", "minute", "second"), strict=True)
    spoken = [f"{cardinal(count)} {name}{'' if count == 1 else 's'}" for count, name in amounts if count]
    return " ".join(spoken) or "zero seconds"


MILITARY_TIME: Rule = (
    re.compile(r"(?<![\w.,:])(?P<h>[01]\d|2[0-3])(?P<min>[0-5]\d)(?=\s?hours\b)"), _military_time)


DOTTED_CLOCK: Rule = (
    re.compile(rf"(?<![\w.,])(?P<h>\d{{1,2}})\.(?P<min>[0-5]\d)(?=\s?{AM_PM}(?!\w))"), _dotted_clock)


TIME_RANGE_START: Rule = (
    re.compile(rf"(?<![\w.:])(?P<start>\d{{1,2}}(?::\d\d)?\s?{AM_PM})\s?[-–—]\s?(?=\d)"), _time_range_start)


CLOCK_DURATION: Rule = (
    re.compile(r"\b(?P<h>\d{1,2}):(?P<min>[0-5]\d):(?P<s>[0-5]\d)\b(?![:.]\d)"), _duration)


CLOCK_TIME: Rule = (
    re.compile(rf"\b(?P<h>\d{{1,2}}):(?P<min>\d{{2}})(?:\s?(?P<ampm>{AM_PM}))?(?![\d:])"
                rf"(?:\s(?P<zone>{TIME_ZONES})\b)?"), _time)


HOUR_AM_PM: Rule = (
    re.compile(rf"\b(?P<h>\d{{1,2}})\s?(?P<ampm>{AM_PM})(?!\w)(?:\s(?P<zone>{TIME_ZONES})\b)?"), _time)


COMPACT_UNITS = {"d": "day", "h": "hour", "m": "minute", "s": "second"}
DURATION_WORDS = {"in", "after", "every", "for", "took", "within", "ttl", "timeout", "last", "eta", "about"}


def _compact_duration(match: re.Match) -> str:
    """'2h30m' -> 'two hours thirty minutes', '3d 4h' -> 'three days four hours'."""
    return " ".join(counted(int(count), COMPACT_UNITS[unit]) for count, unit in COMPACT_PART.findall(match.group(0)))


def _minutes(match: re.Match) -> str:
    """'in 45m' is minutes; '400m' alone is left to the units (meters)."""
    if (words_before(match, 1) or [""])[0].lower().rstrip(":") not in DURATION_WORDS:
        return match.group(0)
    return counted(int(match.group("count")), "minute")


def _split_time(match: re.Match) -> str:
    """'3:52.1', a race time: three minutes fifty-two point one seconds."""
    seconds = f"{cardinal(int(match.group('s')))} point {' '.join(cardinal(int(d)) for d in match.group('f'))}"
    return f"{counted(int(match.group('min')), 'minute')} {seconds} seconds"


def counted(count: int, unit: str) -> str:
    return f"{cardinal(count)} {unit}{'' if count == 1 else 's'}"


COMPACT_PART = re.compile(r"(\d{1,3})([dhms])")
COMPACT_DURATION: Rule = (re.compile(r"(?<![\w.,:])(?:\d{1,3}[dh](?:\s?\d{1,3}[hms]){1,3}|\d{1,3}m\s?\d{1,3}s)(?!\w)"),
                          _compact_duration)
MINUTES: Rule = (re.compile(r"(?<![\w.,])(?P<count>\d{1,3})m(?!\w)"), _minutes)
SPLIT_TIME: Rule = (re.compile(r"(?<![\w.,:])(?P<min>\d{1,2}):(?P<s>[0-5]\d)\.(?P<f>\d{1,3})(?![\d:])"), _split_time)
