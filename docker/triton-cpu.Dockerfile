# Triton without a GPU: the pip-installed server (nvidia-pytriton wheel) serving the CPU target, set up
# by the project's own scripts/setup.sh. Build from the repository root:
#   docker build -f docker/triton-cpu.Dockerfile -t kokoro-triton-cpu .
FROM python:3.11-slim-bookworm

# The Python backend stub embeds Debian's libpython3.11; perf_analyzer links libb64; tini is PID 1 and reaps.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpython3.11=3.11.2-6+deb12u9 libb64-0d=1.2-5+b1 \
      tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/kokoro
COPY . .
RUN TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash scripts/setup.sh \
 && useradd --create-home --uid 10001 kokoro && mkdir -p /models && chown kokoro /models /opt/kokoro/build
USER 10001

ENV KOKORO_TARGET=cpu KOKORO_EXPORT_ARGS=--source=hub,kokoro-onnx-int8 PATH=/opt/kokoro/.venv/bin:$PATH
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=900s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v2/models/kokoro/ready', timeout=2)"]
# tini as PID 1: it forwards signals to the supervisor and reaps the orphans (stubs of a killed server).
ENTRYPOINT ["tini", "--", "/opt/kokoro/docker/triton-entrypoint.sh"]
