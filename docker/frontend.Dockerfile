# The OpenAI-compatible API: slim, non-root, no model weights (voices and vocabulary are read from the
# model repository volume at MODEL_REPOSITORY). Build from the repository root:
#   docker build -f docker/frontend.Dockerfile -t kokoro-frontend .
FROM python:3.11-slim-bookworm

# tini as PID 1: signals forwarded to the API, and any child it leaves reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements-frontend.txt .
RUN pip install --no-cache-dir -r requirements-frontend.txt

COPY frontend/ frontend/
# The shared names and numbers, which import nothing.
COPY kokoro_core/__init__.py kokoro_core/contract.py kokoro_core/
RUN useradd --create-home --uid 10001 kokoro
USER 10001

ENV MODEL_REPOSITORY=/models PORT=8880 WYOMING_PORT=10200
# the API; Wyoming, for Home Assistant
EXPOSE 8880 10200
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8880/ready', timeout=2)"]
ENTRYPOINT ["tini", "--"]
CMD ["python", "-m", "frontend"]
