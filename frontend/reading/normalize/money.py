"""Amounts of money and percentages."""
from __future__ import annotations

import re

from frontend.reading.normalize.data import CURRENCIES, DOLLAR_COUNTRIES, INDEFINITE_ARTICLES, SCALES
from frontend.reading.normalize.spoken import CURRENCY, NUMBER, Rule, cardinal, decimal, describes_noun, words_before


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
    names = CURRENCIES[groups["symbol"]]
    if groups.get("country"):  # "C$100": one hundred Canadian dollars
        country = DOLLAR_COUNTRIES[groups["country"]]
        names = (f"{country} dollar", f"{country} dollars", "cent", "cents")
    article = (words_before(match, 1) or [""])[0].lower() in INDEFINITE_ARTICLES
    whole_amount = "." not in groups["amount"] or (scale and article)  # "a $3.2 million budget"; "the $3.50 fee"
    if whole_amount and describes_noun(match):  # "a $50 gift card": a fifty dollar gift card
        names = (names[0], names[0], *names[2:])
    return sign + _spoken_amount(groups["amount"], names, scale)


def _percent(match: re.Match) -> str:
    return f"{(match.group('sign') and 'minus ') or ''}{decimal(match.group('number'))} percent"


MONEY_SYMBOL_FIRST: Rule = (
    re.compile(rf"(?:(?<![\w-])(?P<sign>-))?(?:\b(?P<country>US|NZ|HK|[CAS])(?=\$))?(?P<symbol>{CURRENCY})(?P<amount>{NUMBER})"
                r"(?:\s?(?P<scale>thousand|million|billion|trillion|[kKmMbBtT]|[mM]n|[bB]n)\b)?"), _money)


MONEY_SYMBOL_AFTER: Rule = (
    re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<amount>{NUMBER})\s?(?P<symbol>[$€£¥₹¢])"), _money)


PERCENTAGE: Rule = (re.compile(rf"(?<![\w.,])(?P<sign>-)?(?P<number>{NUMBER})\s?%"), _percent)
