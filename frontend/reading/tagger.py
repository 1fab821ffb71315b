"""The part-of-speech tags misaki's English G2P branches on: spaCy's en_core_web_sm when installed,
else rules that need no statistical model."""
from __future__ import annotations

import logging

log = logging.getLogger("frontend")

RULE_TAGGER = "kokoro_rule_tagger"
# Penn tags, as en_core_web_sm writes them, for tokens misaki reads by their tag: punctuation it keeps
# (commas, full stops, brackets...), currency signs, and closed-class words ("a" is ɐ only as DT).
FIXED_TAGS = {".": ".", "!": ".", "?": ".", ",": ",", ";": ":", ":": ":", "—": ":", "–": ":",
              "...": ":", "…": "NFP", "(": "-LRB-", "[": "-LRB-", "{": "-LRB-", ")": "-RRB-", "]": "-RRB-",
              "}": "-RRB-", "$": "$", "£": "$", "€": "$", "#": "#",
              "a": "DT", "an": "DT", "the": "DT", "i": "PRP", "to": "TO", "in": "IN", "vs": "IN", "vs.": "IN"}
SENTENCE_OPENERS = {".", ":", "``", "-LRB-"}  # tags of the tokens after which a sentence or quote starts
SINGLE_QUOTES, DOUBLE_QUOTES, OPENING_QUOTES = {"'", "‘", "’"}, {'"', "“", "”"}, {"“", "‘"}


def english_pipeline():
    """spaCy's en_core_web_sm (tagger only) when installed. Else a blank English pipeline tagged by
    rules (tag_by_rules), without which misaki drops commas and full stops and reads "a" as the letter."""
    import spacy
    from spacy.language import Language

    if spacy.util.is_package("en_core_web_sm"):
        return spacy.load("en_core_web_sm", enable=["tok2vec", "tagger"])
    log.warning("spaCy en_core_web_sm is not installed: English G2P with rule-based tags")
    if not Language.has_factory(RULE_TAGGER):
        Language.component(RULE_TAGGER, func=tag_by_rules)
    nlp = spacy.blank("en")
    nlp.add_pipe(RULE_TAGGER)
    return nlp


def tag_by_rules(doc):
    """The tags misaki branches on that need no statistical model; other tokens stay untagged."""
    open_quotes = set()
    for token in doc:
        token.tag_ = _quote_tag(token, open_quotes) if token.text in SINGLE_QUOTES | DOUBLE_QUOTES else _tag_of(token)
    return doc


def _tag_of(token) -> str:
    if token.text == "A":  # the article starts a sentence; elsewhere "A" is the letter (plan A)
        before_word = token.i + 1 < len(token.doc) and token.nbor().is_alpha
        return "DT" if before_word and (token.i == 0 or token.nbor(-1).tag_ in SENTENCE_OPENERS) else ""
    if token.lower_ == "that":  # the pronoun before a pause (did you hear that?), not "so that he..."
        return "DT" if token.i + 1 == len(token.doc) or token.nbor().is_punct else ""
    if token.text == "-":  # a dash between spaces; a hyphen inside a word (well-known)
        return ":" if token.whitespace_ and _after_space(token) else "HYPH"
    if token.like_num:
        return "CD"
    return FIXED_TAGS.get(token.text.lower(), "")


def _quote_tag(token, open_quotes: set) -> str:
    """`` opens a quote, '' closes one; a single quote that closes none is an apostrophe (dogs' bowls)."""
    single = token.text in SINGLE_QUOTES
    if token.text in OPENING_QUOTES or (token.text in {'"', "'"} and _after_space(token) and not token.whitespace_):
        open_quotes.add(single)
        return "``"
    if not single or single in open_quotes:
        open_quotes.discard(single)
        return "''"
    return "POS"


def _after_space(token) -> bool:
    return token.i == 0 or bool(token.nbor(-1).whitespace_)
