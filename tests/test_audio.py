"""Encoding details that the API tests do not isolate: chunk joins and stream validity."""
import io

import av
import numpy as np
import pytest
import soundfile

from frontend.synthesis import audio


def test_chunks_fade_to_silence_at_both_ends_and_keep_their_length():
    tone = np.sin(np.arange(24000) / 3).astype(np.float32)
    out = audio.faded(tone)
    assert out.shape == tone.shape and out[0] == 0 and out[-1] == 0
    np.testing.assert_array_equal(out[audio.FADE_SAMPLES:-audio.FADE_SAMPLES],
                                  tone[audio.FADE_SAMPLES:-audio.FADE_SAMPLES])
    joined = np.concatenate([out, audio.faded(-tone)])
    assert np.abs(np.diff(joined)).max() <= np.abs(np.diff(tone)).max() + 1e-6  # no jump at the join
    assert audio.faded(np.ones(3, dtype=np.float32)).shape == (3,)


def test_a_stream_of_chunks_is_one_valid_file():
    encoder = audio.AudioEncoder(audio.FORMATS["mp3"])
    pieces = [encoder.encode(np.full(12000, 0.1, dtype=np.float32)) for _ in range(4)] + [encoder.finish()]
    container = av.open(io.BytesIO(b"".join(pieces)))
    samples = sum(frame.samples for frame in container.decode(audio=0))
    assert abs(samples / 24000 - 2.0) < 0.08


@pytest.mark.parametrize("name", [*audio.FORMATS, *audio.PCM])
@pytest.mark.parametrize("rate", [8000, 10000, 11025, 22050, 44100, 47000, 48000])
def test_every_format_writes_every_accepted_rate(name, rate):
    """The API accepts 8-48 kHz; a codec that cannot write the rate gets its nearest one, never an error
    after synthesis."""
    fmt = audio.FORMATS.get(name) or audio.PCM[name]
    encoder = audio.AudioEncoder(fmt, rate)
    data = encoder.encode(np.full(24000, 0.1, dtype=np.float32)) + encoder.finish()
    assert encoder.rate == (min(fmt.rates, key=lambda r: abs(r - rate)) if fmt.rates else rate)
    assert len(data) > 100


@pytest.mark.parametrize("name", ["wav", "flac", "mp3"])
@pytest.mark.parametrize("rate", [None, 11025, 44100])
def test_a_whole_file_states_its_length_in_its_header(name, rate):
    """Written seekably, so the muxer fills in what a stream cannot know: WAV's sizes, FLAC's sample count,
    MP3's Xing frame with the encoder delay and padding that a gapless decoder trims."""
    data = audio.encode_all(np.full(36000, 0.1, dtype=np.float32), audio.FORMATS[name], rate)
    info = soundfile.info(io.BytesIO(data))
    assert abs(info.frames - 36000 * (rate or 24000) / 24000) <= 1  # the resampler rounds half a sample
    assert len(soundfile.read(io.BytesIO(data))[0]) == info.frames
