"""Settings from the environment: list settings comma-separated, keys kept secret, each process its own."""
from frontend.settings import Settings
from serving.settings import TritonSettings


def test_lists_are_comma_separated_and_keys_never_printed(monkeypatch):
    monkeypatch.setenv("API_KEYS", " key-one, key-two ,")
    monkeypatch.setenv("TRITON_URL", "triton-a:8000,triton-b:8000")
    monkeypatch.setenv("CORS_ORIGINS", "")
    settings = Settings()
    assert settings.keys() == {"key-one", "key-two"}
    assert settings.triton_url == ["triton-a:8000", "triton-b:8000"] and settings.cors_origins == []
    assert "key-one" not in repr(settings) and "key-one" not in settings.model_dump_json()


def test_each_process_reads_only_its_own_settings(monkeypatch):
    monkeypatch.setenv("TRITON_HTTP_PORT", "9000")
    monkeypatch.setenv("PORT", "9100")
    assert TritonSettings().triton_http_port == 9000 and not hasattr(Settings(), "triton_http_port")
    assert Settings().port == 9100 and not hasattr(TritonSettings(), "port")
