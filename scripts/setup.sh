#!/usr/bin/env bash
# Builds .venv with everything the project runs: PyTorch (the CPU build where there is no NVIDIA GPU),
# the pinned requirements, the Triton server binaries (nvidia-pytriton wheel, installed without its
# Python dependencies: only the server is used), perf_analyzer (tritonclient wheel) and the system
# libraries those binaries load. A second run with nothing changed returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.setup-complete"
fingerprint=$(cat requirements*.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
  echo "setup: $VENV is up to date"
  exit 0
fi

# libpython3.11: the Triton Python backend stub embeds it; libb64: perf_analyzer links it;
# docker-compose: validates the compose files in the tests (no Docker engine needed); chromium: the web page's
# tests drive it headless (Playwright with this browser: nothing downloaded).
missing=()
ldconfig -p | grep -q 'libpython3\.11\.so\.1\.0' || missing+=(libpython3.11)
ldconfig -p | grep -q 'libb64\.so\.0d' || missing+=(libb64-0d)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "setup: creating $VENV"
"$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/pip" install --disable-pip-version-check --progress-bar off)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "setup: NVIDIA GPU found: CUDA PyTorch and onnxruntime-gpu"
  "${pip[@]}" torch==2.13.0
  gpu=1
else
  # Installed first, so that the requirements find it satisfied and pull no CUDA packages.
  # Set TORCH_INDEX_URL (for example the PyTorch CPU wheel index) where no CPU wheel is at hand.
  echo "setup: no NVIDIA GPU: CPU PyTorch"
  "${pip[@]}" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} torch==2.13.0
  gpu=0
fi
"${pip[@]}" -r requirements.txt
if [ "$gpu" = 1 ]; then
  "$VENV/bin/pip" uninstall -y -q onnxruntime
  "${pip[@]}" onnxruntime-gpu==1.31.1
fi
"${pip[@]}" --no-deps nvidia-pytriton==0.7.0
"${pip[@]}" --no-deps -r requirements-pipecat.txt  # Pipecat's client for the tests; its own pins conflict
# The project's core package, editable: the Triton model imports it by name from this environment.
"${pip[@]}" --no-deps --editable .

"$VENV/bin/python" -c "import serving.tritonserver as t; print('setup: tritonserver at', t.workspace())"
echo "$fingerprint" > "$stamp"
echo "setup: done"
