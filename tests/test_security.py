"""Keys, rate limits, CORS and logs against real frontend processes."""
from __future__ import annotations

import httpx
import pytest

from tests.helpers import API_KEY, frontend

PROTECTED = [("POST", "/v1/audio/speech"), ("POST", "/audio/speech"), ("GET", "/v1/models"),
             ("GET", "/v1/models/kokoro"), ("GET", "/v1/audio/voices"), ("GET", "/v1/voices"),
             ("POST", "/dev/phonemize")]
KEYS = ("key-alpha-7f3a9c", "key-beta-2b8e41")


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_route_but_health_needs_a_key(api, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {API_KEY}"},
                    {"Authorization": "Bearer"}):
        response = httpx.request(method, f"{api}{path}", headers=headers, json={"model": "kokoro", "input": "hi"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["type"] == "authentication_error"
    for path in ("/health", "/ready", "/metrics", "/web/", "/web/config.json", "/web/app.js"):
        assert httpx.get(f"{api}{path}").status_code == 200


def test_cors_is_closed_by_default(api):
    preflight = httpx.options(f"{api}/v1/audio/speech", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


@pytest.fixture(scope="module")
def guarded(triton, tiny_repository, tmp_path_factory):
    """A frontend with two keys, 3 requests a minute per key, and one origin allowed."""
    log_path = tmp_path_factory.mktemp("guarded") / "frontend.log"
    with frontend(log_path, TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository),
                  API_KEYS=",".join(KEYS), RATE_LIMIT_PER_MINUTE="3", CORS_ORIGINS="https://app.example") as stack:
        yield stack


def test_rate_limits_are_per_key(guarded):
    def models(key):
        return httpx.get(f"{guarded.url}/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert [models(KEYS[0]).status_code for _ in range(3)] == [200, 200, 200]
    limited = models(KEYS[0])
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 20
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert models(KEYS[1]).status_code == 200  # the other key has its own budget


def test_cors_allows_only_the_configured_origins(guarded):
    def preflight(origin):
        return httpx.options(f"{guarded.url}/v1/audio/speech", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
    allowed = preflight("https://app.example")
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in preflight("https://evil.example").headers


def test_keys_never_reach_the_logs(guarded):
    for key in (KEYS[1], "a-wrong-key-5d1c0e"):
        httpx.post(f"{guarded.url}/v1/audio/speech", headers={"Authorization": f"Bearer {key}"},
                   json={"model": "kokoro", "input": "Hello.", "response_format": "wav"}, timeout=60)
    log = guarded.log()
    assert '"path": "/v1/audio/speech"' in log  # the requests were logged...
    assert not any(secret in log for secret in (*KEYS, "a-wrong-key-5d1c0e"))  # ...without their keys
