"""Run the real Triton Inference Server shipped inside the `nvidia-pytriton` wheel, without Docker.

The wheel holds `tritonserver` (Triton 2.51) with the Python backend only, a backend stub per Python
version and the shared libraries it links. The tree is copied once into a workspace (the stub for
this interpreter put into `backends/python/`) rather than written into site-packages.

    python -m serving.tritonserver --model-repository model_repository   # what `make triton` runs
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / "build" / "tritonserver"


class TritonStartError(RuntimeError):
    """Triton exited or did not become ready; the message carries the end of its log."""


def _pytriton_dir() -> Path:
    """Located, not imported: only the server binaries are used, installed without pytriton's deps."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None:
        raise TritonStartError("nvidia-pytriton is not installed: run `make setup`")
    return Path(spec.submodule_search_locations[0]).resolve()


def workspace() -> Path:
    """The server tree with this interpreter's Python backend stub in place (copied once)."""
    stub = WORKSPACE / "backends" / "python" / "triton_python_backend_stub"
    if not stub.is_file():
        source = _pytriton_dir() / "tritonserver"
        shutil.copytree(source, WORKSPACE, dirs_exist_ok=True, ignore=shutil.ignore_patterns("python_backend_stubs"))
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        shutil.copy2(source / "python_backend_stubs" / version / "triton_python_backend_stub", stub)
    return WORKSPACE


def environment() -> dict[str, str]:
    """The server's libraries on the loader path, and this Python environment as the models' Python.

    The backend stub embeds the system's libpython in isolated mode (it ignores PYTHONPATH) and takes the
    first `python3` on PATH as its executable; from the `pyvenv.cfg` beside it, it takes that environment's
    site-packages, as that environment's own interpreter would. So the models import the project's packages
    (kokoro_core, installed by scripts/setup.sh) by name."""
    env = dict(os.environ)
    libs = [str(_pytriton_dir().parent / "nvidia_pytriton.libs")]
    env["LD_LIBRARY_PATH"] = ":".join(libs + [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p])
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), *filter(None, env.get("PATH", "").split(os.pathsep))])
    return env


def command(model_repository: Path, http_port: int = 8000, grpc_port: int = 8001, metrics_port: int = 8002,
            extra: list[str] | None = None) -> list[str]:
    home = workspace()
    return [str(home / "bin" / "tritonserver"),
            f"--model-repository={Path(model_repository).resolve()}",
            f"--backend-directory={home / 'backends'}",
            f"--http-port={http_port}", f"--grpc-port={grpc_port}", f"--metrics-port={metrics_port}",
            "--exit-on-error=true", "--strict-readiness=true", *(extra or [])]


class TritonServer:
    """A `tritonserver` child process; `start()` returns once the server and its models are ready."""

    def __init__(self, model_repository: Path, http_port: int = 8000, grpc_port: int = 8001,
                 metrics_port: int = 8002, log_path: Path | None = None, extra: list[str] | None = None):
        self.args = command(model_repository, http_port, grpc_port, metrics_port, extra)
        self.http_url = f"localhost:{http_port}"
        self.metrics_url = f"http://localhost:{metrics_port}/metrics"
        self.log_path = Path(log_path) if log_path else WORKSPACE / f"tritonserver-{http_port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 300.0) -> "TritonServer":
        if self.ready():  # otherwise the readiness check below would answer for the other server
            raise TritonStartError(f"a server already answers on {self.http_url}: stop it or choose other ports")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        # Its own process group, so that kill() takes the Python backend's stub processes with it.
        self.process = subprocess.Popen(self.args, env=environment(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TritonStartError(f"tritonserver exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.ready():
                return self
            time.sleep(0.5)
        self.stop()
        raise TritonStartError(f"tritonserver not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.http_url}/v2/health/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the server and its stubs at once, as a crash or an OOM kill would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "TritonServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    from frontend.settings import get_settings
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, default=settings.model_repository)
    parser.add_argument("--http-port", type=int, default=settings.triton_http_port)
    parser.add_argument("--grpc-port", type=int, default=settings.triton_grpc_port)
    parser.add_argument("--metrics-port", type=int, default=settings.triton_metrics_port)
    args, extra = parser.parse_known_args()
    if not any(args.model_repository.glob("*/config.pbtxt")):
        sys.exit(f"{args.model_repository} holds no model: run `make export` first")
    argv = command(args.model_repository, args.http_port, args.grpc_port, args.metrics_port, extra)
    os.execve(argv[0], argv, environment())


if __name__ == "__main__":
    main()
