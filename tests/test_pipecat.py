"""Pipecat's TogetherTTSService, from PyPI and unchanged, its `url` pointed at this server: an LLM's reply streamed in
as tokens at an LLM's pace, Pipecat's audio frames out. On the tiny model its audio is the REST API's, sample for
sample; on the real weights Whisper hears it as well as the REST path's (issue 31: within a point of WER)."""
import asyncio
import re
import time

import httpx
import numpy as np
import pytest

from bench import intelligibility as intel
from bench.listener import word_error_rate
from kokoro_core.contract import SAMPLE_RATE
from tests.helpers import API_KEY

pytest.importorskip("pipecat.services.together.tts")
from pipecat.frames.frames import (
    EndFrame,
    ErrorFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.together.tts import TogetherTTSService
from pipecat.workers.runner import WorkerRunner

TOKENS_PER_S = 30  # an LLM's pace
QUIET_S = 10.0  # no audio for this long after the reply's last token: Pipecat has all of it
# Pipecat ends a reply's audio after 3 s without any (stop_frame_timeout_s); on a loaded 2-core machine the next
# sentence's audio can take longer to come (measured 8 s on the tiny model under a load of 15), so the tests allow
# more. Configuration only: the class is Pipecat's, unchanged.
STOP_FRAME_TIMEOUT_S = 30.0
MAX_WER_ABOVE_REST = 0.01  # issue 31: the REST path's WER, within a point on the corpus
SESSIONS = 6  # at once: under the API's default 8 WebSocket sessions per key, while closed ones are let go


def llm_tokens(text: str) -> list[str]:
    """`text` as an LLM streams it: words with their leading space, punctuation on its own."""
    return re.findall(r"\s*\w+|\s*[^\w\s]", text)


class Collected(FrameProcessor):
    """The end of the pipeline: Pipecat's audio frames and errors, kept."""

    def __init__(self):
        super().__init__()
        self.audio, self.errors, self.last_audio, self.samples = [], [], time.monotonic(), 0

    def has_all(self, expected_samples: int) -> bool:
        quiet = time.monotonic() - self.last_audio >= QUIET_S
        return bool(self.audio) and (quiet or 0 < expected_samples <= self.samples)

    async def process_frame(self, frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, TTSAudioRawFrame):
            assert frame.sample_rate == SAMPLE_RATE and frame.num_channels == 1
            self.audio.append(frame.audio)
            self.samples += len(frame.audio) // 2
            self.last_audio = time.monotonic()
        elif isinstance(frame, ErrorFrame):
            self.errors.append(frame.error)
        await self.push_frame(frame, direction)


async def spoken_by_pipecat(api: str, text: str, voice: str, key: str, expected_samples: int = 0) -> np.ndarray:
    """`text` streamed into TogetherTTSService as an LLM's reply; the 16-bit samples Pipecat hands on, once
    `expected_samples` have come or, without them, no audio for QUIET_S."""
    url = api.replace("http", "ws", 1) + "/v1/audio/speech/websocket"
    tts = TogetherTTSService(api_key=key, url=url, settings=TogetherTTSService.Settings(voice=voice),
                             stop_frame_timeout_s=STOP_FRAME_TIMEOUT_S)
    sink = Collected()
    worker = PipelineWorker(Pipeline([tts, sink]), params=PipelineParams(audio_out_sample_rate=SAMPLE_RATE),
                            idle_timeout_secs=None)
    running = asyncio.create_task(WorkerRunner(handle_sigint=False).run(worker))
    await worker.queue_frame(LLMFullResponseStartFrame())
    for token in llm_tokens(text):
        await worker.queue_frame(LLMTextFrame(token))
        await asyncio.sleep(1 / TOKENS_PER_S)
    await worker.queue_frame(LLMFullResponseEndFrame())
    while not sink.has_all(expected_samples):
        await asyncio.sleep(0.2)
    await worker.queue_frame(EndFrame())
    await running
    assert not sink.errors, sink.errors
    return np.frombuffer(b"".join(sink.audio), "<i2")


def test_pipecat_speaks_an_llm_stream_as_the_rest_api_does(api):
    """Pipecat cuts the reply into sentences and sends each with a commit; the items' audio, joined, is the REST
    API's pcm stream of the whole reply (cut by the same sentences), within float rounding."""
    text = "Hello there. This reply is streamed token by token, as a language model writes it! Is it heard?"
    got = asyncio.run(spoken_by_pipecat(api, text, "af_heart", API_KEY)).astype(np.int32)
    response = httpx.post(f"{api}/v1/audio/speech", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120,
                          json={"model": "kokoro", "input": text, "voice": "af_heart", "response_format": "pcm"})
    want = np.frombuffer(response.content, "<i2").astype(np.int32)
    assert len(got) == len(want) and np.abs(got - want).max() <= 4


@pytest.mark.real
def test_whisper_hears_pipecat_as_well_as_the_rest_path(real_api, listener, corpus_texts, corpus_spoken,
                                                          corpus_heard):
    """The corpus, each text an LLM's reply in a Pipecat session of its own, SESSIONS at once (a voice agent's
    callers): Whisper hears them within a point of the REST path (whose pcm stream carries the whole wav files'
    samples, test_intelligibility.py)."""
    async def every_text() -> list[np.ndarray]:
        room = asyncio.Semaphore(SESSIONS)

        async def session(text: str, expected_samples: int) -> np.ndarray:
            async with room:
                return await spoken_by_pipecat(real_api, text, intel.VOICE, "not-needed", expected_samples)
        return await asyncio.gather(*(session(text, len(samples))
                                      for text, (samples, _) in zip(corpus_texts, corpus_spoken, strict=True)))

    clips = [(samples.astype(np.float32) / 32768, SAMPLE_RATE) for samples in asyncio.run(every_text())]
    pipecat_wer = word_error_rate(corpus_texts, intel.transcripts(listener, clips))
    rest_wer = word_error_rate(corpus_texts, corpus_heard)
    print(f"WER: Pipecat {pipecat_wer:.3f}, REST {rest_wer:.3f}")
    assert pipecat_wer <= rest_wer + MAX_WER_ABOVE_REST
