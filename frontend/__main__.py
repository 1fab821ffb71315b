"""python -m frontend: the API on HOST:PORT (default 0.0.0.0:8880)."""
import logging

import uvicorn

from frontend.api.app import create_app
from frontend.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                timeout_graceful_shutdown=settings.shutdown_grace_s)  # type: ignore[arg-type]  # seconds, any number


if __name__ == "__main__":
    main()
