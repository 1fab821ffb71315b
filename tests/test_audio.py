"""Encoding details that the API tests do not isolate: chunk joins and stream validity."""
import io

import av
import numpy as np

from frontend import audio


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
