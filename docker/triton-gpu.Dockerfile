# NVIDIA Triton serving the GPU target (model_repository_gpu/): onnxruntime backend with TensorRT fp16.
# The first start exports the model repository into the /models volume (hub weights; see
# KOKORO_EXPORT_ARGS) and TensorRT caches its engines in /tmp/kokoro_trt_cache (mount a volume there),
# so later starts skip both. Build from the repository root:
#   docker build -f docker/triton-gpu.Dockerfile -t kokoro-triton .
FROM nvcr.io/nvidia/tritonserver:24.10-py3

WORKDIR /opt/kokoro
COPY requirements.txt requirements-frontend.txt ./
RUN pip install --no-cache-dir torch==2.13.0 && pip install --no-cache-dir -r requirements.txt

COPY export/ export/
COPY model_repository/ model_repository/
COPY model_repository_gpu/ model_repository_gpu/
COPY docker/triton-entrypoint.sh /usr/local/bin/triton-entrypoint.sh

ENV KOKORO_TARGET=gpu KOKORO_EXPORT_ARGS=--fallback-synthetic
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=900s \
  CMD ["curl", "-fsS", "http://127.0.0.1:8000/v2/health/ready"]
ENTRYPOINT ["/usr/local/bin/triton-entrypoint.sh"]
