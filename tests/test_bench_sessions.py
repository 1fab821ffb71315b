"""`make bench-sessions`'s bookkeeping (bench/sessions.py): an LLM's tokens, each sentence's wait from its last
token to its first audio, and underruns against a client's playback clock."""
from bench.sessions import BYTES_PER_SECOND, Session, tokens


def test_tokens_are_words_with_their_space_and_punctuation_alone():
    assert tokens("Hi there, Sam. Ok!") == ["Hi", " there", ",", " Sam", ".", " Ok", "!"]


def test_each_sentence_waits_from_its_last_token_to_its_first_audio():
    session = Session(sentence_ends=[1.0, 3.0])
    second = BYTES_PER_SECOND  # one second of pcm
    session.audio("tts_0", b"\0" * second, 1.5)  # plays until 2.5
    session.audio("tts_0", b"\0" * second, 2.0)  # in time: plays on until 3.5
    session.audio("tts_1", b"\0" * second, 4.0)  # playback ran out at 3.5: an underrun
    assert session.latencies() == [0.5, 1.0]
    assert session.underruns == 1


def test_sentences_are_ordered_by_item_number_not_by_name_as_the_api_names_them():
    session = Session(sentence_ends=[float(n) for n in range(11)])
    for n in reversed(range(11)):
        session.audio(f"tts_{n}", b"", n + 0.25)
    assert session.latencies() == [0.25] * 11
