"""Normalization judged by the listener (issue 34, item 4): sentences of each new category spoken by the real stack
(Kokoro's released weights, `alloy`), heard by Whisper base, scored against the reading the corpus accepts with
both sides through Whisper's English normalizer (which writes numbers back as digits). Normalizing must beat the
same sentences sent with `"normalize": false`, and English sent to `jf_alpha` by id (read with English G2P) must be
heard as well as through `alloy`."""
import pytest

from bench import intelligibility as intel
from bench.listener import word_error_rate
from tests.normalization_corpus import cases

pytestmark = pytest.mark.real

CATEGORIES = ("unit", "resolution_data", "duration", "finance", "math", "identifier", "hashtag_handle", "time_zone",
              "phone", "version", "currency", "abbreviation")
PER_CATEGORY = 3
# Measured once (December 2026, this 2-core machine, alloy): 0.356 normalized, 0.623 for the same sentences sent as
# written, which this bound fails. High beside the corpus sentences' 3 % (README): these are identifiers, units and
# signs, scored against the spoken reading, which Whisper's normalizer does not always write back the same way.
MAX_WER = 0.45
MAX_WER_ABOVE_ALLOY = 0.02  # issue 34: English to jf_alpha by id heard at the WER of alloy (measured: 0.426, 0.426)


def sentences() -> list[tuple[str, str]]:
    """(written, the first accepted reading): the first sentences of each category, held-out ones first."""
    chosen = []
    for category in CATEGORIES:
        of_category = sorted((case for case in cases() if case.category == category), key=lambda c: c.split != "held")
        chosen += [(case.written, case.readings[0]) for case in of_category[:PER_CATEGORY]]
    return chosen


def heard(real_http, listener, texts: list[str], voice: str = intel.VOICE, normalize: bool = True) -> list[str]:
    clips = []
    for text in texts:
        response = real_http.post("/v1/audio/speech", json={"model": "kokoro", "input": text, "voice": voice,
                                                       "response_format": "wav", "normalize": normalize})
        response.raise_for_status()
        clips.append(intel.decode(response.content, "wav"))
    return intel.transcripts(listener, clips)


@pytest.fixture(scope="module")
def normalized_heard(real_http, listener) -> list[str]:
    """The chosen sentences as `alloy` speaks them normalized, heard."""
    return heard(real_http, listener, [text for text, _ in sentences()])


def test_each_category_is_heard_as_the_reading_meant(real_http, listener, normalized_heard):
    written, readings = zip(*sentences(), strict=True)
    normalized = word_error_rate(list(readings), normalized_heard)
    raw = word_error_rate(list(readings), heard(real_http, listener, list(written), normalize=False))
    print(f"WER over {len(written)} sentences: normalized {normalized:.3f}, sent as written {raw:.3f}")
    assert normalized <= MAX_WER
    assert normalized < raw  # what the rules write out is heard better than what G2P makes of the symbols


def test_english_to_a_japanese_voice_by_id_is_heard_as_through_alloy(real_http, listener, normalized_heard):
    written = [text for text, _ in sentences()[:12]]
    alloy = word_error_rate(written, normalized_heard[:12])
    japanese_voice = word_error_rate(written, heard(real_http, listener, written, voice="jf_alpha"))
    print(f"WER alloy {alloy:.3f}, jf_alpha by id {japanese_voice:.3f}")
    assert japanese_voice <= alloy + MAX_WER_ABOVE_ALLOY
