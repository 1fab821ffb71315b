"""Chaos against `make serve` (`python -m serving.stack`) under load: a model instance's stub killed, then
`tritonserver` itself (SIGKILL, as an OOM kill or a native crash would). The supervisor brings the service
back with nothing restarted by hand; requests the crash caught before their first byte are retried and
succeed; the others get 503 with Retry-After, never a 500, and every 200 decodes whole. Ctrl-C then leaves
no process or shared memory behind. The measured windows are printed (docs/operations.md)."""
from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from serving.tritonserver import SHM, remove_leftovers, stub_processes
from tests.helpers import ROOT, free_port, whole

TEXT = "A request in flight. Two sentences."

CLIENTS = 3
PROBE_S = 0.5
PROBES = 16  # prober's requests open at once, at most (more wait their turn)
RECOVERY_LIMIT_S = 90.0  # a fault not healed by then is a failure: without the supervisor it never is


@dataclass
class Outcome:
    request_id: str
    started: float
    ended: float
    status: int | None  # None: a stream cut short after its first byte
    streamed: bool
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    return [int(child) for task in tasks.iterdir() for child in (task / "children").read_text().split()]


class Served:
    """`make serve` on free ports, in front of the tiny repository."""

    def __init__(self, repository: Path, log_path: Path):
        self.triton_port, port = free_port(), free_port()
        env = {key: value for key, value in os.environ.items() if key != "TRITON_URL"}
        env.update(MODEL_REPOSITORY=str(repository), HOST="127.0.0.1", PORT=str(port), API_KEYS="",
                   TRITON_HTTP_PORT=str(self.triton_port), TRITON_GRPC_PORT=str(free_port()),
                   TRITON_METRICS_PORT=str(free_port()))
        self.url, self.log_path = f"http://127.0.0.1:{port}", log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "serving.stack"], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)
        self.shm_prefix = f"kokoro{self.process.pid}-{self.triton_port}-"
        self.wait(lambda: self.ready(), 300, "make serve did not become ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def wait(self, condition, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"make serve exited:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"{message}:\n{self.log()[-3000:]}"
            time.sleep(0.1)

    def tritonservers(self) -> list[int]:
        return [pid for pid in children(self.process.pid)
                if b"tritonserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def tritonserver(self) -> int:
        [pid] = self.tritonservers()
        return pid

    def restarts(self, reason: str) -> float:
        metrics = httpx.get(f"{self.url}/metrics").text
        found = re.search(rf'^kokoro_triton_restarts_total{{reason="{reason}"}} (\S+)$', metrics, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def interrupt(self) -> int:
        """Ctrl-C."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(120)

    def stop(self) -> None:
        """Ctrl-C; past a minute, SIGKILL for it, its Triton (in a session of its own) and their leftovers."""
        if self.process.poll() is None:
            tritons = self.tritonservers()
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                for triton in tritons:
                    os.killpg(triton, signal.SIGKILL)
                self.process.kill()
                self.process.wait()
                remove_leftovers(self.shm_prefix)


@pytest.fixture
def served(tiny_repository, tmp_path):
    stack = Served(tiny_repository, tmp_path / "serve.log")
    yield stack
    stack.stop()


def speak(url: str, request_id: str, streamed: bool) -> Outcome:
    body = {"model": "kokoro", "input": TEXT, "response_format": "pcm" if streamed else "wav"}
    started = time.monotonic()
    try:
        with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, headers={"X-Request-ID": request_id},
                          timeout=120) as response:
            data = response.read()
            status, headers = response.status_code, dict(response.headers)
    except httpx.TransportError:
        return Outcome(request_id, started, time.monotonic(), None, streamed)
    return Outcome(request_id, started, time.monotonic(), status, streamed, data, headers)


class Load:
    """CLIENTS threads sending short requests back to back (every other one a stream); `probe` adds a new
    request every PROBE_S while a fault lasts, whatever became of the last: the clients' requests a crash
    catches wait for the restart, the prober's show what a new client gets meanwhile."""

    def __init__(self, url: str):
        self.url, self.outcomes, self.stopping = url, [], threading.Event()
        self.pool = ThreadPoolExecutor(CLIENTS + PROBES)
        self.running = [self.pool.submit(self.client, i) for i in range(CLIENTS)]

    def client(self, i: int) -> None:
        for n in itertools.count():
            if self.stopping.is_set():
                return
            self.outcomes.append(speak(self.url, f"c{i}-{n}", streamed=i % 2 == 1))

    def probe(self, until: threading.Event, name: str) -> None:
        for n in itertools.count():
            if until.wait(PROBE_S):
                return
            self.running.append(self.pool.submit(lambda n=n: self.outcomes.append(speak(self.url, f"{name}-{n}",
                                                                                        streamed=False))))

    def successes_since(self, moment: float) -> int:
        return sum(o.status == 200 and o.started >= moment for o in self.outcomes)

    def stop(self) -> list[Outcome]:
        self.stopping.set()
        self.pool.shutdown(wait=True)
        for request in self.running:
            request.result()
        return self.outcomes


def fault_under_load(stack: Served, load: Load, fault, reason: str) -> dict:
    """Run `fault` once the load has 3 successes, then wait until the supervisor has restarted Triton for
    `reason` and a request started after /ready came back has succeeded. Returns the measured windows."""
    stack.wait(lambda: load.successes_since(0) >= 3, 120, "no progress before the fault")
    restarts, probing = stack.restarts(reason), threading.Event()
    fault_at = time.monotonic()
    fault()
    prober = threading.Thread(target=load.probe, args=(probing, reason))
    prober.start()
    try:
        stack.wait(lambda: stack.restarts(reason) > restarts and stack.ready(), RECOVERY_LIMIT_S,
                   f"not back within {RECOVERY_LIMIT_S:g} s ({reason})")
    finally:
        probing.set()
        prober.join()
    ready_at = time.monotonic()
    stack.wait(lambda: load.successes_since(ready_at) >= 1, 120, "requests do not succeed again")
    failed = [o for o in load.outcomes if o.status != 200 and o.ended >= fault_at]
    return {"fault_at": fault_at, "ready_s": ready_at - fault_at,
            "window_503_s": max((o.ended - fault_at for o in failed), default=0.0)}


def test_chaos_stub_then_triton_killed_under_make_serve(served):
    expected = {streamed: speak(served.url, f"expected-{streamed}", streamed).body for streamed in (False, True)}
    load = Load(served.url)
    try:
        stub = min(children(served.tritonserver()))
        stub_kill = fault_under_load(served, load, lambda: os.kill(stub, signal.SIGKILL), "instance_died")
        triton_kill = fault_under_load(served, load, lambda: os.kill(served.tritonserver(), signal.SIGKILL), "exited")
    finally:
        outcomes = load.stop()

    by_status = {status: sum(o.status == status for o in outcomes) for status in {o.status for o in outcomes}}
    print(f"\n{len(outcomes)} requests by status {by_status}")
    for name, fault in (("stub killed", stub_kill), ("tritonserver killed", triton_kill)):
        print(f"{name}: /ready 200 again after {fault['ready_s']:.1f} s; 503 window {fault['window_503_s']:.1f} s")
    assert set(by_status) <= {200, 503}, by_status  # no 500, no stream cut short (None)
    for outcome in outcomes:
        if outcome.status == 200:
            assert whole(outcome.body, outcome.streamed, expected), outcome.request_id
        else:
            assert outcome.headers["retry-after"], outcome.request_id

    retried = set(re.findall(r"request ([\w-]+-\d+)-\d+: retried once", served.log()))
    assert len(retried) >= 2, "the requests the crashes caught were not retried"
    assert all(o.status == 200 for o in outcomes if o.request_id in retried), "a retried request failed"

    live = served.tritonserver()
    assert set(stub_processes(served.shm_prefix)) == set(children(live)), "stubs of a dead server left running"
    assert len(list(SHM.glob(f"{served.shm_prefix}*"))) == len(children(live)), "shared memory of dead stubs left"

    assert served.interrupt() == 0, served.log()[-3000:]
    assert not stub_processes(served.shm_prefix) and not list(SHM.glob(f"{served.shm_prefix}*"))
    assert not Path(f"/proc/{live}").exists(), "tritonserver outlived Ctrl-C"
