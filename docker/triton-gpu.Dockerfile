# NVIDIA Triton serving the GPU target (model_repository_gpu/): onnxruntime backend with TensorRT fp16.
# The first start exports the model repository into the /models volume (hub weights; see
# KOKORO_EXPORT_ARGS) and TensorRT caches its engines in /tmp/kokoro_trt_cache (mount a volume there),
# so later starts skip both. Build from the repository root:
#   docker build -f docker/triton-gpu.Dockerfile -t kokoro-triton .
# Triton 25.06: Ubuntu 24.04 with Python 3.12, which requirements-export.txt needs (onnxruntime 1.31
# wants >= 3.11, kokoro and misaki < 3.13), and CUDA 12.9.
FROM nvcr.io/nvidia/tritonserver:25.06-py3

# Ubuntu 24.04 marks its Python as externally managed; in this image Triton's Python backend is its only user.
ENV PIP_BREAK_SYSTEM_PACKAGES=1
# tini (Ubuntu 24.04's universe) as PID 1: it forwards signals to the supervisor and reaps the orphans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kokoro
# Only what the export and the Python model import. CPU PyTorch: the export runs on the CPU, and the CUDA
# build from PyPI would add several GB.
COPY requirements-export.txt ./
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-cache-dir -r requirements-export.txt

# The core package into the system Python, which Triton's Python backend stub embeds: model.py imports it.
COPY pyproject.toml ./
COPY kokoro_core/ kokoro_core/
RUN pip install --no-cache-dir --no-deps .
COPY export/ export/
COPY serving/ serving/
COPY model_repository/ model_repository/
COPY model_repository_gpu/ model_repository_gpu/
COPY docker/triton-entrypoint.sh /usr/local/bin/triton-entrypoint.sh

ENV KOKORO_TARGET=gpu KOKORO_EXPORT_ARGS=--source=hub,kokoro-onnx-int8
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=900s \
  CMD ["curl", "-fsS", "http://127.0.0.1:8000/v2/models/kokoro/ready"]
ENTRYPOINT ["tini", "--", "/usr/local/bin/triton-entrypoint.sh"]
