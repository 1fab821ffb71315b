"""Token-paced WebSocket sessions (issue 31): N clients each stream a reply into /v1/audio/speech/websocket at an
LLM's pace (30 tokens a second), as Together's protocol carries it, and play the audio as it comes. Measured per
sentence: from its last token sent to its first audio received (p50, p99), and underruns: audio that arrived after
the client's playback had run out, once playback began.

    python -m bench.sessions --url http://localhost:8880 --sessions 1,8,32
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import time
from dataclasses import dataclass, field

import numpy as np

from kokoro_core.contract import SAMPLE_RATE

REPLY = ("Sure, I can help with that. The library opens at nine in the morning and closes at six in the evening. "
         "Children can borrow up to five books at a time, and adults can borrow ten. Late returns cost a small fee "
         "for each day. Is there anything else you would like to know?")
TOKENS_PER_S = 30.0
BYTES_PER_SECOND = 2 * SAMPLE_RATE  # pcm: 16-bit samples


def tokens(text: str) -> list[str]:
    """`text` as an LLM streams it: words with their leading space, punctuation on its own."""
    return re.findall(r"\s*\w+|\s*[^\w\s]", text)


@dataclass
class Session:
    sentence_ends: list[float] = field(default_factory=list)  # when each sentence's last token was sent
    first_audio: dict[str, float] = field(default_factory=dict)  # item id -> its first audio's arrival
    underruns: int = 0
    played_until: float | None = None  # when the audio received so far will have played

    def audio(self, item_id: str, data: bytes, now: float) -> None:
        self.first_audio.setdefault(item_id, now)
        if self.played_until is not None and now > self.played_until:
            self.underruns += 1
        self.played_until = max(self.played_until or now, now) + len(data) / BYTES_PER_SECOND

    def latencies(self) -> list[float]:
        firsts = [self.first_audio[k] for k in sorted(self.first_audio, key=lambda k: int(k.split("_")[1]))]
        return [audio - end for audio, end in zip(firsts, self.sentence_ends, strict=False)]


async def run_session(url: str, key: str | None, text: str) -> Session:
    from websockets.asyncio.client import connect

    session = Session()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    address = url.replace("http", "ws", 1) + "/v1/audio/speech/websocket"
    async with connect(address, additional_headers=headers, max_size=None, open_timeout=60) as ws:
        await ws.recv()  # session.created
        sentences = len(re.findall(r"[.!?]", text))

        async def feed():
            for token in tokens(text):
                await ws.send(json.dumps({"type": "input_text_buffer.append", "text": token}))
                if token.strip() in (".", "!", "?"):
                    session.sentence_ends.append(time.monotonic())
                await asyncio.sleep(1 / TOKENS_PER_S)
            await ws.send(json.dumps({"type": "input_text_buffer.commit"}))

        async def listen():
            while True:
                event = json.loads(await ws.recv())
                if event["type"] == "conversation.item.audio_output.delta":
                    session.audio(event["item_id"], base64.b64decode(event["delta"]), time.monotonic())
                elif event["type"] == "conversation.item.tts.failed":
                    raise RuntimeError(event["error"])
                elif event["type"] == "conversation.item.audio_output.done" and len(session.first_audio) >= sentences:
                    return

        await asyncio.gather(feed(), listen())
    return session


async def level(url: str, key: str | None, count: int) -> dict:
    sessions = await asyncio.gather(*(run_session(url, key, REPLY) for _ in range(count)))
    latencies = np.array([latency for s in sessions for latency in s.latencies()])
    first = np.array([s.latencies()[0] for s in sessions])
    return {"sessions": count, "sentences": len(latencies), "p50_s": float(np.percentile(latencies, 50)),
            "p99_s": float(np.percentile(latencies, 99)), "first_p50_s": float(np.percentile(first, 50)),
            "underruns": sum(s.underruns for s in sessions)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8880")
    parser.add_argument("--key", default=None)
    parser.add_argument("--sessions", default="1,8,32", help="comma-separated levels of concurrent sessions")
    args = parser.parse_args(argv)
    print("| sessions | sentences | last token to first audio, p50 / p99 | the first sentence's, p50 | underruns |")
    print("| --- | --- | --- | --- | --- |")
    for count in (int(n) for n in args.sessions.split(",")):
        row = asyncio.run(level(args.url, args.key, count))
        print(f"| {count} | {row['sentences']} | {row['p50_s']:.2f} / {row['p99_s']:.2f} s | "
              f"{row['first_p50_s']:.2f} s | {row['underruns']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
