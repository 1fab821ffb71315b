# The OpenAI-compatible API: slim, non-root, no model weights (voices and vocabulary are read from the
# model repository volume at MODEL_REPOSITORY). Build from the repository root:
#   docker build -f docker/frontend.Dockerfile -t kokoro-frontend .
FROM python:3.11-slim-bookworm

WORKDIR /app
COPY requirements-frontend.txt .
RUN pip install --no-cache-dir -r requirements-frontend.txt

COPY frontend/ frontend/
# The shared names and numbers, which import nothing.
COPY kokoro_core/__init__.py kokoro_core/contract.py kokoro_core/
RUN useradd --create-home --uid 10001 kokoro
USER 10001

ENV MODEL_REPOSITORY=/models PORT=8880
EXPOSE 8880
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8880/ready', timeout=2)"]
CMD ["python", "-m", "frontend"]
