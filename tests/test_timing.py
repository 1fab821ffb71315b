"""Word timing without a server: which tokens speak each word of the input (alignment of each word read alone
with the chunks' phonemes), times from durations, and captions validated by maintained parsers."""
import html
import io

import numpy as np
import pytest
import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.errors import InvalidRequest
from frontend.reading import captions, ssml, timing
from frontend.reading.chunks import Chunk, phoneme_chunks, text_chunks
from frontend.reading.timing import TimedWord, Word
from kokoro_core.contract import SAMPLE_RATE, SAMPLES_PER_FRAME


def chunks_of(phonemizer, text: str, language: str = "a", max_tokens: int = 400) -> list[Chunk]:
    """As the service cuts an input: its SSML or pause parts, each into chunks."""
    return [chunk for part in ssml.parse(text) if part.text.strip()
            for chunk in text_chunks(phonemizer, part.text, language, max_tokens)]


def spoken(phonemizer, text: str, language: str = "a", max_tokens: int = 400) -> list[tuple[str, str, int]]:
    """(word as written, the phonemes that speak it, chunk) for each word spoken, in order."""
    chunks = chunks_of(phonemizer, text, language, max_tokens)
    alignment = timing.align_words(phonemizer, chunks, text, language)
    symbols = ["".join(p for p in c.phonemes if p in phonemizer.vocab) for c in chunks]
    return [(alignment.words[w].text, symbols[n][lo:hi], n) for n, spans in enumerate(alignment.spans)
            for w, lo, hi in spans]


def test_words_as_written_own_their_normalized_phonemes(phonemizer):
    text = "It costs $12.50, and well-known Dr. Smith's 3,497 cats—really! “Yes,” she said."
    words = spoken(phonemizer, text)
    assert [(w, p) for w, p, _ in words] == [
        ("It", "ˌɪt"), ("costs", "kˈɔsts"), ("$12.50", "twˈɛlv dˈɑləɹz ænd fˈɪfti sˈɛnts"), ("and", "ænd"),
        ("well-known", "wˌɛlnˈOn"), ("Dr", "dˈɑktəɹ"), ("Smith's", "smˈɪθs"),
        ("3,497", "θɹˈi θˈWzᵊnd fˈɔɹ hˈʌndɹəd nˈIndisˌɛvən"), ("cats", "kˈæts"), ("really", "ɹˈiᵊli"),
        ("Yes", "jˈɛs"), ("she", "ʃi"), ("said", "sˈɛd")]
    assert [chunk for *_, chunk in words] == [0] * 10 + [1] * 3  # two sentences, two chunks


def test_character_offsets_point_into_the_input(phonemizer):
    text = "Wait [pause:1s] for [Kokoro](/kˈOkəɹO/), the U.S. and “AT&T”."
    alignment = timing.align_words(phonemizer, chunks_of(phonemizer, text), text, "a")
    assert [(w.text, text[w.start:w.end]) for w in alignment.words] == [
        ("Wait", "Wait"), ("for", "for"), ("Kokoro", "Kokoro"), ("the", "the"), ("U.S.", "U.S."),
        ("and", "and"), ("AT&T", "AT&T")]


def test_ssml_words_and_what_replaces_them(phonemizer):
    text = '<speak>Hello <break time="1s"/> the <sub alias="World Wide Web">WWW</sub> is &amp; big.</speak>'
    words = spoken(phonemizer, text)
    assert [(w, p) for w, p, _ in words] == [("Hello", "həlˈO"), ("the", "ðə"), ("WWW", "wˈɜɹld wˈId wˈɛb"),
                                             ("is", "ɪz"), ("&", "ænd"), ("big", "bˈɪɡ")]
    alignment = timing.align_words(phonemizer, chunks_of(phonemizer, text), text, "a")
    assert text[alignment.words[4].start:alignment.words[4].end] == "&amp;"


def test_a_word_cut_between_chunks_has_spans_in_both(phonemizer):
    text = "They paid $1,234,567.89 for it"  # one word of eleven spoken words
    alignment = timing.align_words(phonemizer, chunks := chunks_of(phonemizer, text, max_tokens=40), text, "a")
    assert len(chunks) > 1
    owners = [[alignment.words[w].text for w, _, _ in spans] for spans in alignment.spans]
    assert owners[0][-1] == owners[1][0] == "$1,234,567.89"


@pytest.mark.parametrize("language, text, expected", [
    ("z", "今天天气很好。我们去北京吧！", [("今", "ʨi→n"), ("天", "tʰjɛ→n"), ("天", "tʰjɛ→n"), ("气", "ʨʰi↘"),
                                   ("很", "xə↓n"), ("好", "xau↓"), ("我", "wo↓"), ("们", "mən"), ("去", "ʨʰy↘"),
                                   ("北", "pei↓"), ("京", "ʨi→ŋ"), ("吧", "pa")]),
    ("j", "今日は良い天気ですね。東京へ行きます。", [("今日", "kʲoː"), ("は", "βa"), ("良い", "joi"),
                                          ("天気", "teŋkʲi"), ("です", "desɨ"), ("ね", "ne"), ("東京", "toːkʲoː"),
                                          ("へ", "e"), ("行き", "ikʲi"), ("ます", "masɨ")]),
    ("e", "Hola, ¿cómo estás? Tengo 12 gatos.", [("Hola", "ˈola"), ("cómo", "kˈomo"), ("estás", "estˈas"),
                                                 ("Tengo", "tˈɛŋɡo"), ("12", "ðˈoθe"), ("gatos", "ɣˈatos")]),
])
def test_units_of_other_languages(phonemizer, language, text, expected):
    """Mandarin: characters; Japanese: UniDic's words; spaced languages: words."""
    assert [(w, p) for w, p, _ in spoken(phonemizer, text, language)] == expected


def test_phonemes_sent_directly_are_their_own_words(phonemizer):
    phonemes = "həlˈO wˈɜɹld, ðɪs ɪz kˈOkəɹO."
    chunks = phoneme_chunks(phonemizer, phonemes, 12)
    alignment = timing.align_words(phonemizer, chunks, phonemes, "a", phonemes_given=True)
    assert [w.text for w in alignment.words] == ["həlˈO", "wˈɜɹld", "ðɪs", "ɪz", "kˈOkəɹO"]
    assert sum(len(spans) for spans in alignment.spans) == 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=80))
def test_any_input_aligns_in_order_within_its_chunks(phonemizer, text):
    try:
        chunks = chunks_of(phonemizer, text, max_tokens=30)
    except InvalidRequest:
        return
    alignment = timing.align_words(phonemizer, chunks, text, "a")
    order = [(n, lo, hi, w) for n, spans in enumerate(alignment.spans) for w, lo, hi in spans]
    assert [w for *_, w in order] == sorted(w for *_, w in order)  # in the input's order
    for n, lo, hi, _ in order:
        assert 0 <= lo < hi <= len(chunks[n].token_ids)
    assert all(0 <= w.start < w.end <= len(text) for w in alignment.words)


def test_clock_times_words_from_durations_and_the_audio_before():
    words = [Word("one", 0, 3), Word("two", 4, 7), Word("three", 8, 13)]
    alignment = timing.Alignment(words, [[(0, 0, 2), (1, 3, 5)], [(1, 0, 1), (2, 2, 4)]])
    clock = timing.Clock(alignment)
    # pads at both ends, five tokens: they start at frames 2, 3, 6, 7, 9, heard LEAD_FRAMES (3) earlier
    first = np.array([2, 1, 3, 1, 2, 2, 4])
    assert clock.chunk(0, first, 0) == [TimedWord(words[0], 0.0, 3 * SAMPLES_PER_FRAME / SAMPLE_RATE)]
    offset = first.sum() * SAMPLES_PER_FRAME + SAMPLE_RATE // 2  # the first chunk, then half a second of pause
    second = np.array([3, 2, 1, 1, 5, 3])  # tokens start at frames 3, 5, 6, 7, 12, heard at 0, 2, 3, 4, 9
    assert clock.chunk(1, second, offset) == [
        TimedWord(words[1], 4 * SAMPLES_PER_FRAME / SAMPLE_RATE,  # starts in chunk 0, ends in chunk 1
                  timing.seconds(offset + 2 * SAMPLES_PER_FRAME)),
        TimedWord(words[2], timing.seconds(offset + 3 * SAMPLES_PER_FRAME),
                  timing.seconds(offset + 9 * SAMPLES_PER_FRAME))]


def timed(text: str, times: list[tuple[float, float]]) -> list[TimedWord]:
    """The input's words (as the aligner cuts them) at the given times."""
    words = [t.word for t in timing.source_tokens(text, "a") if t.word]
    return [TimedWord(word, start, end) for word, (start, end) in zip(words, times, strict=True)]


def read_vtt(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue, as webvtt-py parses them (entities unescaped, as a player shows them)."""
    def seconds(stamp: str) -> float:
        hours, minutes, rest = stamp.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)
    return [(seconds(c.start), seconds(c.end), html.unescape(c.text)) for c in webvtt.from_buffer(io.StringIO(text))]


def test_cues_break_at_sentences_pauses_and_two_lines():
    text = ("Hello there. This sentence is long enough that it cannot fit on two short lines of captions at all, "
            "so it wraps. [pause:2s] Done & dusted <ok>")
    count = len(text.split()) - 1  # the pause marker is no word
    times = [(0.3 * i, 0.3 * i + 0.25) for i in range(count)]
    times[-4:] = [(t + 2, e + 2) for t, e in times[-4:]]
    cues = captions.cues(timed(text, times), text)
    texts = [c.text for c in cues]
    assert texts[0] == "Hello there."
    assert texts[-1] == "Done & dusted <ok>"
    assert all(len(line) <= captions.LINE_WIDTH for cue in texts for line in cue.split("\n"))
    assert all(cue.count("\n") <= 1 for cue in texts)
    assert " ".join(t.replace("\n", " ") for t in texts) == ssml.INLINE_TAG.sub("", text).replace("  ", " ")
    assert cues[0].end == cues[1].start < cues[0].start + captions.MIN_CUE_S  # a short cue: held till the next

    assert read_vtt(captions.webvtt(cues)) == [(round(c.start, 3), round(c.end, 3), c.text) for c in cues]
    subtitles = list(srt.parse(captions.srt(cues)))
    assert [s.content for s in subtitles] == texts
    assert [s.start.total_seconds() for s in subtitles] == [round(c.start, 3) for c in cues]


def test_cues_of_characters_count_wide_columns():
    text = "今天天气很好我们去北京吧今天天气很好我们去北京吧今天天气很好我们去北京吧。"
    words = [TimedWord(Word(c, i, i + 1), 0.2 * i, 0.2 * i + 0.2) for i, c in enumerate(text[:-1])]
    cues = captions.cues(words, text)
    assert all(captions._width(line) <= captions.LINE_WIDTH for c in cues for line in c.text.split("\n"))
    assert "".join(c.text.replace("\n", "") for c in cues) == text
    assert max(c.end - c.start for c in cues) <= captions.MAX_CUE_S


def test_no_words_make_empty_but_valid_captions():
    assert read_vtt(captions.webvtt([])) == []
    assert list(srt.parse(captions.srt([]))) == []
