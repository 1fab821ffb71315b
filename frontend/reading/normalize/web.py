"""Web addresses and e-mail addresses, read symbol by symbol; hashtags and handles split into words."""
from __future__ import annotations

import re
from typing import cast

from frontend.reading.normalize.data import ACRONYMS_THAT_ARE_WORDS, COUNTRY_LABELS, SPELLED_DOMAIN_LABELS
from frontend.reading.normalize.spoken import Rule, initials

CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])|(?<=[A-Z])(?=[A-Z][a-z])|_")


def _email(match: re.Match) -> str:
    user, domain = match.group("user"), match.group("domain")
    return f"{_spoken_address(COUNTRY_LABEL.sub(_spelled_label, user))} at {_spoken_address(spelled_labels(domain))}"


def _url(match: re.Match) -> str:
    """The address in words; punctuation that ends the sentence after it stays."""
    address = match.group(0).rstrip(".,;:!?)]'\"")
    trailing = match.group(0)[len(address):]
    address = re.sub(r"^https?://", "", address, flags=re.I).rstrip("/")
    address = re.sub(r"^www\.", "w w w dot ", address, flags=re.I)
    host = cast(re.Match[str], HOST.match(address)).group(0)  # matches, maybe empty
    return _spoken_address(spelled_labels(host) + address[len(host):]) + trailing


def spelled_labels(host: str) -> str:
    """'nps.gov' -> 'N P S.gov', 'acme.io' -> 'acme.I O': short labels of a host that no one reads as a word, and a
    country's two letters after a second level ('abc.net.au' -> 'abc.net.A U')."""
    host = COUNTRY_CODE.sub(lambda match: match.group(1) + " ".join(match.group(2).upper()), host)
    return SHORT_LABEL.sub(_spelled_label, host)


def _spelled_label(match: re.Match) -> str:
    label = match.group(0)
    spelled = initials(label) or label.lower() in SPELLED_DOMAIN_LABELS or label.lower() in COUNTRY_LABELS
    return " ".join(label.upper()) if spelled else label


def _spoken_address(text: str) -> str:
    for symbol, word in ((".", " dot "), ("/", " slash "), ("-", " dash "), ("_", " underscore "), (":", " colon "),
                         ("?", " question mark "), ("=", " equals "), ("&", " and "), ("+", " plus ")):
        text = text.replace(symbol, word)
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)  # "page2" -> "page 2", read later
    return re.sub(r"\s+", " ", text).strip()


HOST = re.compile(r"[^/?#]*")
SHORT_LABEL = re.compile(r"(?<![^.\s-])[A-Za-z]{2,5}(?![^.\s-])")  # a whole label: between dots or dashes
COUNTRY_LABEL = re.compile(r"(?<![^.\s-])[A-Za-z]{2}(?![^.\s-])")  # in a mailbox's name only a country is spelled


TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|io|ai|dev|app|co|uk|us|info|me|tv|fm|ly"
# A second level under a country's two letters: "jazzfest.co.nz", "abc.net.au", "ox.ac.uk".
SECOND_LEVEL_DOMAINS = "co|com|org|net|ac|gov|edu"
COUNTRY_CODE = re.compile(rf"(\.(?:{SECOND_LEVEL_DOMAINS})\.)([a-z]{{2}})$", re.I)


WEB_ADDRESS: Rule = (
    re.compile(r"\bhttps?://[^\s<>\"]+|\bwww\.[^\s<>\"]+|(?<![\w.@/-])[A-Za-z][\w-]{0,62}(?:\.[\w-]{1,63}){0,5}"
                rf"\.(?:(?:{SECOND_LEVEL_DOMAINS})\.[a-z]{{2}}|{TOP_LEVEL_DOMAINS}|[a-z]{{2}}(?=/\w))(?![.-]?\w|@)(?:/[^\s<>\"]*)?",
                re.I), _url)


EMAIL_ADDRESS: Rule = (
    re.compile(r"(?<![\w.+-])(?P<user>[\w.+-]{1,64})@(?P<domain>[\w-]{1,63}(?:\.[\w-]{1,63}){1,8})"), _email)


def split_words(tag: str) -> str:
    """'ThrowbackThursday' -> 'Throwback Thursday', 'COVID19' -> 'COVID 19', 'Help_Desk' -> 'Help Desk'; initials
    written lowercase are spelled ('nba_highlights' -> 'N B A highlights'), capitals are left to the acronyms."""
    return " ".join(_spelled_word(word) for word in CAMEL_CASE.sub(" ", tag).split())


def _spelled_word(word: str) -> str:
    lowercase_initials = word.islower() and initials(word) and word not in ACRONYMS_THAT_ARE_WORDS
    return " ".join(word.upper()) if lowercase_initials else word


def _hashtag(match: re.Match) -> str:
    """'#ThrowbackThursday' is read as its words, as a newsreader reads a tag; '#1' stays a number."""
    return split_words(match.group("tag"))


def _handle(match: re.Match) -> str:
    return f"at {split_words(match.group('handle'))}"


def _dot_js(match: re.Match) -> str:
    return " J S"


HASHTAG: Rule = (re.compile(r"(?<![\w&#])#(?P<tag>\d{0,4}[A-Za-z]{2}[A-Za-z0-9_]{0,137})"), _hashtag)
HANDLE: Rule = (re.compile(r"(?<![\w.@])@(?P<handle>[A-Za-z][A-Za-z0-9_]{0,30})\b"), _handle)
DOT_JS: Rule = (re.compile(r"(?<=[A-Za-z])\.js\b"), _dot_js)  # "Node.js"
