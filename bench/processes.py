"""The product's processes started from Python (tests, `make soak`, `make bench`): the frontend as its own
`python -m frontend` process, and where its memory stands."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FrontendProcess:
    """A real frontend (`python -m frontend`) with its own settings, on a free port."""

    def __init__(self, log_path: Path, **settings: str):
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {**os.environ, "API_KEYS": "", "WYOMING_PORT": "0", **settings, "HOST": "127.0.0.1",  # Wyoming if asked
               "WYOMING_HOST": "127.0.0.1", "PORT": self.url.rsplit(":", 1)[1]}
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "frontend"], env=env, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the frontend exited with {self.process.returncode}:\n{self.log()}")
            try:
                httpx.get(f"{self.url}/health")
                return
            except httpx.TransportError:
                time.sleep(0.5)
        raise TimeoutError(self.log())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sigterm(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (Triton's Python backend runs stub processes)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total
