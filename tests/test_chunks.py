"""Text to chunks: every chunk fits the model's window, no word is lost, split or repeated, and a
stream's first chunk is short."""
import random

import pytest

from frontend.errors import InvalidRequest
from frontend.reading.chunks import MAX_TOKENS, phoneme_chunks, text_chunks

WORDS = ("the quick brown fox jumps over a lazy dog while seven bright stars shine above quiet hills "
         "and people talk about history science music travel weather and their plans for tomorrow").split()


def long_text(characters: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    sentences = []
    while sum(len(s) + 1 for s in sentences) < characters:
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 40))]
        if len(words) > 12:
            words[len(words) // 2] += ","
        sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?"]))
    return " ".join(sentences)[:characters].rsplit(" ", 1)[0]


def test_a_4096_character_text_splits_into_fitting_chunks_with_every_word_in_order(phonemizer):
    text = long_text(4096)
    chunks = text_chunks(phonemizer, text, "a", max_tokens=MAX_TOKENS, normalize=False, first_words=8)
    assert all(0 < len(c.token_ids) <= MAX_TOKENS for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()
    first_sentence = text.split(".")[0].split("!")[0].split("?")[0]
    assert len(chunks[0].text.split()) <= 10 or first_sentence.startswith(chunks[0].text.rstrip(".!?"))


def test_small_windows_split_at_clauses_then_words_never_inside_a_word(phonemizer):
    text = long_text(1500, seed=1)
    chunks = text_chunks(phonemizer, text, "a", max_tokens=60, normalize=False)
    assert all(len(c.token_ids) <= 60 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_first_chunk_prefers_a_short_first_clause(phonemizer):
    chunks = text_chunks(phonemizer, "Well, that is a long opening sentence with many many words in it. Then more.",
                               "a", first_words=8)
    assert chunks[0].text == "Well,"


def test_first_chunk_leaves_no_one_or_two_word_rest(phonemizer):
    one_word_rest = "Sure, I can help you with that today, okay?"
    assert [c.text for c in text_chunks(phonemizer, one_word_rest, "a", first_words=8)] == [one_word_rest]
    twelve_words = "Your order has shipped, and it should arrive on Thursday next week."
    assert [c.text for c in text_chunks(phonemizer, twelve_words, "a", first_words=8)] == [
        "Your order has shipped,", "and it should arrive on Thursday next week."]


@pytest.mark.parametrize("sentence, lead", [
    ("The mail carrier walks past our house every morning at the same time.", None),  # no pause: whole
    ("We need apples, oranges, bananas, grapes and a bag of walnuts for the salad.",
     "We need apples, oranges, bananas,"),  # as many whole clauses as fit
    ("After the long meeting with the whole engineering team, the manager postponed it.", None),  # clause too long
])
def test_first_chunk_is_cut_only_between_clauses(phonemizer, sentence, lead):
    chunks = [c.text for c in text_chunks(phonemizer, sentence + " Then more.", "a", first_words=8)]
    assert chunks[0] == (lead or sentence)


def test_normalization_happens_before_chunking(phonemizer):
    chunks = text_chunks(phonemizer, "Dr. Smith paid $12.50. Then he left.", "a")
    assert [c.text for c in chunks] == ["Doctor Smith paid twelve dollars and fifty cents.", "Then he left."]
    raw = text_chunks(phonemizer, "Dr. Smith paid $12.50.", "a", normalize=False)
    assert raw[0].text.startswith("Dr.")


def test_pronunciation_overrides_are_taken_as_written_and_not_normalized(phonemizer):
    text = phonemizer.normalized("I love [Kokoro](/kˈOkəɹO/) for $5.", "a")
    assert text == "I love [Kokoro](/kˈOkəɹO/) for five dollars."
    phonemes = phonemizer.phonemize(text, "a")
    assert " kˈOkəɹO " in phonemes and phonemes.startswith("ˌI lˈʌv")  # "I" tagged PRP, as en_core_web_sm tags it


def test_overrides_and_direct_phonemes_are_checked_against_the_vocabulary(phonemizer):
    with pytest.raises(InvalidRequest, match="outside Kokoro's vocabulary: Ж") as e:
        phonemizer.phonemize("a [word](/wЖɹd/)", "a")
    assert e.value.param == "input"
    with pytest.raises(InvalidRequest) as e:
        phoneme_chunks(phonemizer, "həlˈO 😀")
    assert e.value.param == "phonemes"


def test_direct_phonemes_split_at_spaces_into_fitting_chunks(phonemizer):
    phonemes = " ".join(["həlˈO", "wˈɜɹld"] * 200)
    chunks = phoneme_chunks(phonemizer, phonemes, max_tokens=100)
    assert all(len(c.token_ids) <= 100 for c in chunks)
    assert " ".join(c.phonemes for c in chunks).split() == phonemes.split()
    with pytest.raises(InvalidRequest, match="longer than a chunk") as e:  # never cut short in silence
        phoneme_chunks(phonemizer, "həlˈO " + "ə" * 101, max_tokens=100)
    assert e.value.param == "phonemes"


@pytest.mark.parametrize("language, sentence", [("z", "今天天气很好，我们去公园散步吧。"),
                                               ("j", "今日はいい天気ですね、公園に行きましょう。")])
def test_text_without_spaces_splits_without_losing_characters(phonemizer, language, sentence):
    text = sentence * 12  # no spaces anywhere; far more than one window
    chunks = text_chunks(phonemizer, text, language, max_tokens=80)
    assert all(0 < len(c.token_ids) <= 80 for c in chunks)
    assert "".join(c.text for c in chunks) == text
