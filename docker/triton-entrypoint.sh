#!/usr/bin/env bash
# Export the model repository into /models on first start, then run Triton on it.
#   KOKORO_TARGET       cpu or gpu (set by the image)
#   KOKORO_EXPORT_ARGS  export source: --fallback-synthetic (hub, else synthetic), --synthetic, or
#                       "--checkpoint /weights/kokoro-v1_0.pth --voices /weights/voices"
set -euo pipefail
repository=${MODEL_REPOSITORY:-/models}
if [ ! -f "$repository/kokoro/assets/provenance.json" ]; then
  echo "triton-entrypoint: exporting the $KOKORO_TARGET model repository into $repository"
  # shellcheck disable=SC2086  # KOKORO_EXPORT_ARGS is a list of arguments
  python3 -m export --target "$KOKORO_TARGET" --output "$repository" $KOKORO_EXPORT_ARGS
fi
if [ "$KOKORO_TARGET" = cpu ]; then
  exec python3 -m serving.tritonserver --model-repository "$repository" "$@"
fi
exec tritonserver --model-repository="$repository" --http-port=8000 --grpc-port=8001 --metrics-port=8002 \
  --exit-on-error=true --strict-readiness=true "$@"
