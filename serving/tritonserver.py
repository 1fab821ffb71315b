"""Run the real Triton Inference Server shipped inside the `nvidia-pytriton` wheel, without Docker.

The wheel holds `tritonserver` (Triton 2.51) with the Python backend only, a backend stub per Python
version and the shared libraries it links. The tree is copied once into a workspace (the stub for
this interpreter put into `backends/python/`) rather than written into site-packages.

    python -m serving.tritonserver --model-repository model_repository   # what `make triton` runs
"""
from __future__ import annotations

import argparse
import contextlib
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
STUB = b"triton_python_backend_stub"
SHM = Path("/dev/shm")
LOOPBACK = "127.0.0.1"  # where Triton listens unless told otherwise (`--address`)


class TritonStartError(RuntimeError):
    """Triton exited or did not become ready; the message carries the end of its log."""


def _pytriton_dir() -> Path:
    """Located, not imported: only the server binaries are used, installed without pytriton's deps."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
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


def own_libpython() -> list[str]:
    """The directory of this interpreter's shared libpython, if it was built with one."""
    libdir, name = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
    return [libdir] if libdir and name and (Path(libdir) / name).is_file() else []


def environment() -> dict[str, str]:
    """The server's libraries on the loader path, and this Python environment as the models' Python.

    The backend stub embeds libpython in isolated mode (it ignores PYTHONPATH) and takes the first `python3`
    on PATH as its executable; from the `pyvenv.cfg` beside it, it takes that environment's standard library
    and site-packages, as that environment's own interpreter would. So the models import the project's
    packages (kokoro_core, installed by scripts/setup.sh) by name. The loader finds this interpreter's own
    libpython first where it has one: the system's (another patch release, from scripts/setup.sh) fails to
    load some of that standard library's extensions (`ssl`, which the torch runner's imports reach)."""
    env = dict(os.environ)
    libs = [str(_pytriton_dir().parent / "nvidia_pytriton.libs"), *own_libpython()]
    env["LD_LIBRARY_PATH"] = ":".join(libs + [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p])
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), *filter(None, env.get("PATH", "").split(os.pathsep))])
    return env


def shm_prefix(http_port: int) -> str:
    """The start of the names of one server's Python-stub shared-memory regions (and so of its stubs'
    command lines): this process and the port, so that what a dead server leaves can be told from what
    another server on the machine still uses."""
    return f"kokoro{os.getpid()}-{http_port}-"


def command(model_repository: Path, http_port: int = 8000, grpc_port: int = 8001, metrics_port: int = 8002,
            extra: list[str] | None = None, tritonserver: str | None = None, address: str = LOOPBACK) -> list[str]:
    """`tritonserver`: an installed server (NVIDIA's image) with its own backends; default: the wheel's.
    Its three endpoints listen on `address` only: loopback unless a container asks for more (Triton has no
    keys and no limits; only the API in front of it should reach it)."""
    if tritonserver:
        server = [tritonserver]
    else:
        home = workspace()
        server = [str(home / "bin" / "tritonserver"), f"--backend-directory={home / 'backends'}"]
    return [*server, f"--model-repository={Path(model_repository).resolve()}",
            f"--http-address={address}", f"--grpc-address={address}", f"--metrics-address={address}",
            f"--http-port={http_port}", f"--grpc-port={grpc_port}", f"--metrics-port={metrics_port}",
            f"--backend-config=python,shm-region-prefix-name={shm_prefix(http_port)}",
            "--exit-on-error=true", "--strict-readiness=true", *(extra or [])]


def stub_processes(prefix: str) -> dict[int, str]:
    """pid -> state (R, S, Z...) of every Python backend stub whose shared memory starts with `prefix`."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if len(argv) > 2 and argv[0].endswith(STUB) and argv[2].startswith(prefix.encode()):
                found[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            continue  # not a process, or gone while read
    return found


def remove_leftovers(prefix: str) -> list[str]:
    """SIGKILL the stubs of a server that is gone (they can outlive it, SIGTERM does not end them) and
    remove their shared memory (a stub killed with SIGKILL never does). Returns what was removed."""
    removed = []
    for pid in stub_processes(prefix):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            removed.append(f"stub {pid}")
        with contextlib.suppress(ChildProcessError):  # reparented to this process (PID 1 in a container)
            os.waitpid(pid, os.WNOHANG)
    for region in SHM.glob(f"{prefix}*"):
        with contextlib.suppress(FileNotFoundError):
            region.unlink()
            removed.append(str(region))
    return removed


class TritonServer:
    """A `tritonserver` child process; `start()` returns once the server and its models are ready."""

    def __init__(self, model_repository: Path, http_port: int = 8000, grpc_port: int = 8001,
                 metrics_port: int = 8002, log_path: Path | None = None, extra: list[str] | None = None,
                 tritonserver: str | None = None, address: str = LOOPBACK):
        self.args = command(model_repository, http_port, grpc_port, metrics_port, extra, tritonserver, address)
        self.env = dict(os.environ) if tritonserver else environment()
        self.http_url = f"localhost:{http_port}"
        self.metrics_url = f"http://localhost:{metrics_port}/metrics"
        self.log_path = Path(log_path) if log_path else WORKSPACE / f"tritonserver-{http_port}.log"
        self.shm_prefix = shm_prefix(http_port)
        self.process: subprocess.Popen | None = None
        self.instances: set[int] = set()  # the stub of each Python model instance, as found when ready

    def start(self, timeout: float = 300.0) -> TritonServer:
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        if self.ready():  # otherwise the readiness check below would answer for the other server
            raise TritonStartError(f"a server already answers on {self.http_url}: stop it or choose other ports")
        remove_leftovers(self.shm_prefix)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Its own process group, so that kill() takes the Python backend's stub processes with it.
            self.process = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, timeout: float = 300.0) -> None:
        if self.process is None:
            raise TritonStartError("tritonserver was not launched")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TritonStartError(f"tritonserver exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.ready():
                self.instances = set(stub_processes(self.shm_prefix))
                return
            time.sleep(0.5)
        self.stop()
        raise TritonStartError(f"tritonserver not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def ready(self) -> bool:
        return self._answers("/v2/health/ready")

    def live(self) -> bool:
        return self._answers("/v2/health/live")

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.http_url}{path}", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def dead_instances(self) -> list[int]:
        """Stubs of model instances that died while the server lives on. Triton 2.51 neither restarts such
        an instance nor reports it in any readiness, and never reaps its stub; requests it is given fail
        after 1 s with "Stub process '<instance>' is not healthy"."""
        alive = {pid for pid, state in stub_processes(self.shm_prefix).items() if state != "Z"}
        return sorted(self.instances - alive)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL for the server and its stubs past `timeout` (Triton waits for a dead
        instance until its exit timeout); nothing of it is left afterwards."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        remove_leftovers(self.shm_prefix)

    def kill(self) -> None:
        """SIGKILL the server and its stubs at once, as a crash or an OOM kill would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.is_file():
            return f"(log on {self.log_path})"
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    from serving.settings import get_triton_settings
    settings = get_triton_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, default=settings.model_repository)
    parser.add_argument("--http-port", type=int, default=settings.triton_http_port)
    parser.add_argument("--grpc-port", type=int, default=settings.triton_grpc_port)
    parser.add_argument("--metrics-port", type=int, default=settings.triton_metrics_port)
    parser.add_argument("--address", default=LOOPBACK,
                        help="the address all three endpoints listen on (default: loopback only)")
    args, extra = parser.parse_known_args()
    if not any(args.model_repository.glob("*/config.pbtxt")):
        sys.exit(f"{args.model_repository} holds no model: run `make export` first")
    argv = command(args.model_repository, args.http_port, args.grpc_port, args.metrics_port, extra,
                   address=args.address)
    os.execve(argv[0], argv, environment())


if __name__ == "__main__":
    main()
