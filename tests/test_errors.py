"""The one error body for a failure nobody planned for. A real fault of this kind is a bug, which the
stack cannot be made to have, so a route that raises stands in for it."""
from fastapi.testclient import TestClient

from frontend.api.app import create_app
from frontend.settings import Settings


def test_an_unexpected_failure_is_a_500_in_the_openai_shape_without_internals(tmp_path, caplog):
    app = create_app(Settings(model_repository=tmp_path))

    @app.get("/v1/broken")
    async def broken():
        raise RuntimeError("secret detail at /opt/internal/path")

    response = TestClient(app, raise_server_exceptions=False).get("/v1/broken")
    assert response.status_code == 500
    assert response.json() == {"error": {"message": "internal server error", "type": "server_error", "param": None,
                                         "code": None}}
    assert "secret" not in response.text
    assert "secret detail" in caplog.text  # the operator still sees it
