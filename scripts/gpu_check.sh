#!/usr/bin/env bash
# The GPU check of the torch runner (docs/performance.md), in two steps:
#   scripts/gpu_check.sh pack   here (registries reachable): into .gpu_check/, the wheels a bare GPU machine with
#                               PyTorch lacks (tritonserver in nvidia-pytriton, upstream kokoro, loguru, this
#                               project's core) and the bench's phoneme chunks; prints their sizes
#   scripts/gpu_check.sh run    there, from the repository root with .gpu_check/ beside it: installs the wheels
#                               into the python3 that has PyTorch, then `python -m bench.gpu_check`; the results in
#                               results/gpu/gpu_check.json (and in $OUT, where set)
# Environment: PYTHON (default .venv/bin/python for pack, python3 for run); KOKORO_GPU_CHECK_INSTALL=0 skips the
# install (a rehearsal in an environment that has them); KOKORO_GPU_CHECK_SMALL=1 rehearses on a CPU (tiny model,
# concurrency 1 and 4).
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=.gpu_check
# The GPU machine's Python is 3.12; manylinux_2_35: nvidia-pytriton's platform.
WHEELS=(nvidia-pytriton==0.7.0 kokoro==0.9.4 loguru==0.7.3)

pack() {
  local python=${PYTHON:-.venv/bin/python}
  rm -rf "$PACK" && mkdir -p "$PACK/wheels"
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_35_x86_64 --platform manylinux_2_17_x86_64 --dest "$PACK/wheels" \
    "${WHEELS[@]}"
  "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$PACK/wheels" .
  "$python" -m bench.gpu_check --write-chunks "$PACK/chunks.json"
  du -b "$PACK"/wheels/* "$PACK/chunks.json"
  echo "gpu_check: .gpu_check holds $(du -sb "$PACK" | cut -f1) bytes; the working tree's tracked files" \
       "$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)"
}

# The Python backend stub embeds this interpreter's libpython (serving/tritonserver.py); say so plainly if the
# machine has none, rather than as a model that fails to load.
check_libpython() {
  "$PYTHON" - <<'EOF'
import pathlib, sys, sysconfig
libdir, name = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
found = [str(p) for p in (pathlib.Path(libdir or "/"), pathlib.Path("/usr/lib/x86_64-linux-gnu")) if (p / name).is_file()]
print(f"gpu_check: {name}: {found[0] if found else 'MISSING'}")
sys.exit(0 if found else f"gpu_check: the Triton Python backend stub needs {name}; the machine has none")
EOF
}

run() {
  PYTHON=${PYTHON:-python3}
  if [ "${KOKORO_GPU_CHECK_INSTALL:-1}" = 1 ]; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --no-cache-dir \
      "$PACK"/wheels/*.whl
    # the stub imports the installed core: it must be this tree's (`pack` after the last change)
    diff -rq --exclude=__pycache__ kokoro_core "$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/kokoro_core"
  fi
  check_libpython
  nvidia-smi || echo "gpu_check: no nvidia-smi (a CPU rehearsal)"
  local output=results/gpu
  PYTHONUNBUFFERED=1 "$PYTHON" -m bench.gpu_check --chunks "$PACK/chunks.json" --output "$output"
  if [ -n "${OUT:-}" ]; then
    cp "$output"/*.json "$OUT/"
    for log in "$output"/tritonserver-*.log; do tail -c 2000000 "$log" > "$OUT/$(basename "$log")"; done
  fi
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run" >&2; exit 2 ;;
esac
