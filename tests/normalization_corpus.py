"""The normalization corpus (tests/normalization_corpus.tsv): written English from real genres, each case with
every reading a careful newsreader might give, by category, with a held-out part that the rules were not tuned on.

A reading is right when its words match one of the case's readings: compared lowercase, without punctuation, with
hyphens as spaces ("twenty-five" is "twenty five"), since G2P reads those alike. Pure Python, no project imports,
so another normalizer (nemo-text-processing, in a venv of its own) is scored by the same code:
`python tests/normalization_corpus.py` prints the rules' rates by category and split.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).with_name("normalization_corpus.tsv")
# Adversarial input: each piece repeated to a few kilobytes, built against the rules (long digit runs, many symbols,
# nested dots, thousands of "#", near-misses of every pattern). tests/test_normalize.py bounds every rule's time.
ADVERSARIAL = [
    "9", "1,", "$1,", "a@", "http://a.", "-1/", "12:", "Mr. ", "1st ", "1-", "1.1.", "a.", "555-", "+1 ", "1½", "1 1/",
    "1999 ", "St. A ", "No. ", "the 9", "1:1:", "12-", "6'", "6'1", "XVI ", "Henry VIII ", "A.", "Mon-", "9am-",
    "0800 ", "1 AD ", "5 sq ", "code 1", "2024/1/", "a(s)", "#", "#a", "##1", "@", "@a_", "~", "~1", "±", "<", " < ",
    "x²", "²", "1h", "2h30m", "1m ", "1:1.", "1920x", "1x1x", "1080p", "ISBN 1-", "ISBN 9", "CVE-1-", "+44 (0)",
    "(0)", "555-123-4567 x", "FY", "FY2", "Q1 ", "H1 2", "v1.", "v1.2.3-rc", "1.2.3-", "US$", "C$1", "₹", "12/20",
    "2024-0", "exp 2024-01 ", "Dec 25 - ", "Jan ", ".312 ", "error 4", "port 80", "A320", "F-1", "a 5 mg ",
    "Mon., ", "on Tues. ", ", Fla.", "Apt. ", "min. ", "EST. ", "7:05 p.m. EST ", "5 mg/", "1 in. ", "Node.js",
    "$5/mo ", "5%-", "1 × ", "√", "Dr. Jr. ",
    "on 3/4 of ", "in 1", "May 3–", "3 May–1 ", "3 May–", "a 1GB A", "a $1 AB-", "ab.io/", "a@ab.ab-", "http://ab.",
    "@ab_", "#ab_ab", "aOS", "AbOS ", "Ctrl+", "+Del ", "hit Esc ",
    "2^", "^^^", "2^-", "3x ", "3x + ", "1 - 1 = ", " - ", "πr²", "3x^2", "A1", "A1 ", "plate A1 ", "1A",
    "+44 ", "+4 4 ", "1-888-A", "1-888-AB-", "800-AB", "α", "aπ1",
    "Rue St. ", "Mount St. A ", "COPD ", "AB ", "xz ", "x-xz ", "A1B-", "A-1-", "1A-B1-", "A7X-2", "1-1-A",
    "§", "§§ 1", "¶¶", "*#", "press *", "# ", "press 1 or # ", "1 lb-", "1 lb-ft", "5 hp ", "10³ ", "10³ k", "10^3 k",
    "the 10MB limit. ",
    "AB-1", "A-1234", "case AB-1234 ", "AB-12345-", "incl. ", "excl.", "pH", "mRNA ", "aB-", "12'6", "12'6\" ", "1'1'",
    "number is 1", "order number 1234 ", "no. 1",
    '123 1" ', "ISBN is 1-", "a.co.n", "part no. A1 to 12345 ",
    "a apt. a 1 yrs. 1 kPa r²h dial 911 a.fm/a a-uk@a.io 01 1 a $1.1 million a",
]
SPLITS = ("tune", "held")


@dataclass(frozen=True)
class Case:
    split: str  # "tune": the rules were fitted to it; "held": written first and measured, never tuned on
    category: str
    genre: str
    written: str
    readings: tuple[str, ...]


def cases(path: Path = CORPUS) -> list[Case]:
    """Lines `split<TAB>category<TAB>genre<TAB>written<TAB>reading || reading...`; # starts a comment."""
    loaded = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5 or fields[0] not in SPLITS:
            raise ValueError(f"{path.name}:{number}: expected split, category, genre, written, readings: {line!r}")
        split, category, genre, written, readings = fields
        loaded.append(Case(split, category, genre, written, tuple(r.strip() for r in readings.split("||"))))
    return loaded


def words(text: str) -> str:
    """The words of a reading as G2P hears them: lowercase, no punctuation, hyphens and dashes as spaces."""
    text = re.sub(r"[-–—/]", " ", text.lower())
    text = re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def read_right(spoken: str, case: Case) -> bool:
    return words(spoken) in {words(reading) for reading in case.readings}


def rates(normalize: Callable[[str], str], corpus: Iterable[Case]) -> dict[tuple[str, str], tuple[int, int]]:
    """(right, total) by (split, category), and by (split, "all")."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for case in corpus:
        right = read_right(normalize(case.written), case)
        for key in ((case.split, case.category), (case.split, "all")):
            counts[key][0] += right
            counts[key][1] += 1
    return {key: (right, total) for key, (right, total) in counts.items()}


def table(results: dict[str, dict[tuple[str, str], tuple[int, int]]]) -> str:
    """A markdown table: one row per category, a column per normalizer and split."""
    names = list(results)
    categories = [*sorted({category for counts in results.values() for _, category in counts} - {"all"}), "all"]
    header = "| category | " + " | ".join(f"{name} {split}" for name in names for split in SPLITS) + " |"
    rows = [header, "|" + "---|" * (1 + len(names) * len(SPLITS))]
    for category in categories:
        cells = []
        for name in names:
            for split in SPLITS:
                right, total = results[name].get((split, category), (0, 0))
                cells.append(f"{right}/{total}" if total else "")
        rows.append(f"| {category} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from frontend.reading.normalize import normalize

    print(table({"rules": rates(normalize, cases())}))
