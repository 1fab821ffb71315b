"""Fairness between clients, against the real stack: limits per API key beside the global ones (requests in
progress, kept downloads), every working route inside admission, the wall-clock cap of a stream, key files with
comments, and /docs served from the API itself."""
from __future__ import annotations

import json
import re
import socket
import time
from contextlib import contextmanager

import httpx
import pytest
import tritonclient.http as tritonhttp

from tests.helpers import frontend, inflight, wait_until

LONG_TEXT = " ".join(f"Sentence number {i} is here to make this input long enough." for i in range(60))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def held_stream(url: str, key: str):
    """A long audio stream of `key`, open and unread after its first bytes, on a socket whose small receive
    buffer (set before connecting, so the kernel does not grow it) soon stops the server's sending: the
    stream holds one of the key's slots until it is closed."""
    body = json.dumps({"model": "kokoro", "input": "Hello there. [pause:10s] " * 25, "response_format": "raw",
                       "sample_rate": 48000, "stream_format": "audio"}).encode()
    address = httpx.URL(url)
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect((address.host, address.port))
        client.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
                       + f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        yield


@pytest.fixture(scope="module")
def keyed(triton, tiny_repository, tmp_path_factory):
    """An API whose keys come from a file with comments and blank lines, one request in progress per key."""
    keys = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys.write_text("# the team's keys\n\nkey-a\n  # key-commented\nkey-b\n\n")
    with frontend(TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository), API_KEYS_FILE=str(keys),
                  MAX_INFLIGHT="8", MAX_INFLIGHT_PER_KEY="1", DOWNLOAD_MAX_FILES_PER_KEY="2") as stack:
        yield stack.url


def test_key_file_ignores_comments_and_blank_lines(keyed):
    models = lambda key: httpx.get(f"{keyed}/v1/models", headers=bearer(key)).status_code  # noqa: E731
    assert models("key-a") == 200 and models("key-b") == 200
    for not_a_key in ("# the team's keys", "# key-commented", "key-commented", "#"):
        assert models(not_a_key) == 401, not_a_key


def test_a_key_at_its_limit_does_not_stop_another(keyed):
    speech = {"model": "kokoro", "input": "Hello there.", "response_format": "wav"}
    with held_stream(keyed, "key-a"):
        wait_until(lambda: inflight(keyed) == 1, 60, "the held stream holds no slot")
        refused = httpx.post(f"{keyed}/v1/audio/speech", headers=bearer("key-a"), json=speech, timeout=60)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json() == {"error": {"message": refused.json()["error"]["message"], "type": "rate_limit_error",
                                            "param": None, "code": "too_many_requests_for_key"}}
        served = httpx.post(f"{keyed}/v1/audio/speech", headers=bearer("key-b"), json=speech, timeout=60)
        assert served.status_code == 200 and served.content[:4] == b"RIFF"
    wait_until(lambda: httpx.post(f"{keyed}/v1/audio/speech", headers=bearer("key-a"), json=speech,
                                  timeout=60).status_code == 200, 60, "key-a still refused after its stream")


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/dev/phonemize", {"text": "Hello."}),
    ("POST", "/v1/audio/voices/combine", "af_bella+af_sky"),
    ("GET", "/v1/download/0123456789abcdef0123456789abcdef.wav", None),
    ("POST", "/v1/audio/captions", {"model": "kokoro", "input": "Hello."}),
    ("POST", "/dev/captioned_speech", {"model": "kokoro", "input": "Hello.", "stream": False}),
    ("POST", "/dev/generate_from_phonemes", {"phonemes": "həlˈO", "voice": "af_bella"}),
])
def test_every_working_route_is_inside_admission(keyed, method, path, body):
    ask = lambda key: httpx.request(method, f"{keyed}{path}", headers=bearer(key), json=body, timeout=60)  # noqa: E731
    with held_stream(keyed, "key-a"):
        wait_until(lambda: inflight(keyed) == 1, 60, "the held stream holds no slot")
        refused = ask("key-a")
        assert refused.status_code == 429 and refused.headers["retry-after"], refused.text
        assert refused.json()["error"]["code"] == "too_many_requests_for_key"
        assert ask("key-b").status_code in (200, 404)  # 404: no such download, answered inside admission
    wait_until(lambda: inflight(keyed) == 0, 60, "a slot still held")


def test_downloads_are_kept_per_key_within_its_quota(keyed):
    def kept(key: str) -> str:
        response = httpx.post(f"{keyed}/v1/audio/speech", headers=bearer(key), timeout=60, json={
            "model": "kokoro", "input": "Hello there.", "response_format": "wav", "return_download_link": True})
        assert response.status_code == 200
        return f"{keyed}/v1{response.headers['x-download-path']}"

    def status(path: str, key: str) -> int:
        return httpx.get(path, headers=bearer(key)).status_code

    of_b = kept("key-b")
    assert status(of_b, "key-b") == 200
    stolen = httpx.get(of_b, headers=bearer("key-a"))
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "download_not_found"
    of_a = [kept("key-a") for _ in range(3)]  # one more than the key's quota of 2 files
    assert [status(path, "key-a") for path in of_a] == [404, 200, 200]  # its own oldest went
    assert status(of_b, "key-b") == 200  # the other key's file stays


def settled(read, quiet_s: float = 2.0):
    """`read()` once it has not changed for `quiet_s` (work still under way changes it)."""
    def unchanged():
        first = read()
        time.sleep(quiet_s)
        return (first,) if read() == first else None
    return wait_until(unchanged, 120, "still changing")[0]


def test_the_stream_cap_ends_a_long_stream_and_its_synthesis(triton, tiny_repository):
    stats = tritonhttp.InferenceServerClient(triton.http_url)
    count = lambda: stats.get_inference_statistics("kokoro")["model_stats"][0]["inference_count"]  # noqa: E731
    sentences = LONG_TEXT.count(". ") + 1
    with frontend(TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository), MAX_STREAM_SECONDS="1",
                  SYNTHESIS_LOOKAHEAD="1", TRITON_MAX_INFLIGHT="1", CHUNK_MAX_PHONEMES="20") as stack:
        speech = {"model": "kokoro", "input": LONG_TEXT, "response_format": "pcm"}  # a chunk or more per sentence
        before = settled(count)
        with httpx.stream("POST", f"{stack.url}/v1/audio/speech", json={**speech, "stream_format": "sse"},
                          timeout=120) as response:
            assert response.status_code == 200
            events = [json.loads(line.removeprefix("data: ")) for line in response.iter_lines() if line]
        assert events[0]["type"] == "speech.audio.delta"
        assert events[-1]["type"] == "error" and events[-1]["error"]["code"] == "stream_too_long"
        assert "speech.audio.done" not in {event["type"] for event in events}
        assert settled(count) - before < sentences / 2  # the chunks due after the cap never reach Triton
        wait_until(lambda: inflight(stack.url) == 0, 60, "the capped stream's slot still held")

        with httpx.stream("POST", f"{stack.url}/v1/audio/speech", json=speech, timeout=120) as response:
            with pytest.raises(httpx.RemoteProtocolError):  # a raw audio stream is cut off: no complete body
                for _ in response.iter_bytes():
                    pass


def test_docs_load_nothing_from_another_host(api):
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{api}{page}").text
        assets = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)["']|url: '([^']+)'""", html)
        urls = [a or b for a, b in assets]
        assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
        for url in urls:
            assert httpx.get(f"{api}{url}").status_code == 200, url
        assert "cdn" not in html.lower() and "https://" not in html
