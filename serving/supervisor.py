"""Keeps a `tritonserver` serving: restarts it, with backoff, when it exits, stops answering, or loses a model
instance; what a dead server leaves (stubs, shared memory) is removed before the next one starts.

Triton 2.51's Python backend does not replace an instance whose stub died: the instance fails every request
it is given ("Stub process ... is not healthy") while every readiness endpoint answers 200, and unloading
the model hangs on it (the old instances are never finalized). A restart of the server is the finest repair
that works, and takes the model's load time.

    python -m serving.supervisor --model-repository /models   # the Triton containers' main process

In the images it runs under tini, which reaps; when it is itself PID 1 or a child subreaper (run without tini),
it reaps the orphans reparented to it (the stubs of a killed server), which would otherwise stay zombies.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from serving.tritonserver import LOOPBACK, TritonServer, TritonStartError

log = logging.getLogger("supervisor")
BACKOFF_S = (1, 2, 4, 8, 16, 30)  # between failed starts; the last repeats
STABLE_S = 60.0  # up this long after a restart: the next failure starts the backoff from its beginning
UNANSWERED_S = 10.0  # a live process whose health endpoint does not answer this long is hung
REASONS = ("exited", "instance_died", "unresponsive")
PR_GET_CHILD_SUBREAPER = 37


def adopts_orphans() -> bool:
    """Whether orphaned descendants are reparented to this process: PID 1 (of a container), or a child
    subreaper (prctl PR_SET_CHILD_SUBREAPER)."""
    if os.getpid() == 1:
        return True
    flag = ctypes.c_int(0)
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0) == 0 and flag.value != 0


def zombie_children() -> list[int]:
    """This process's children that have exited and wait to be reaped."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            if state == "Z" and int(parent) == me:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # not a process, or gone while read
    return found


def reap_orphans(keep: set[int]) -> list[int]:
    """Reap every exited child but those in `keep` (the server, which subprocess waits for itself: a blind
    waitpid(-1) would take its exit status from it). Returns the pids reaped."""
    reaped = []
    for pid in zombie_children():
        if pid not in keep:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
                reaped.append(pid)
    return reaped


class Supervisor:
    """Runs `server` and watches it from a thread every `interval_s`. `on_restart(reason)` is called for each
    restart (a metric); `restarts` counts them."""

    def __init__(self, server: TritonServer, interval_s: float = 0.5, on_restart=None, start_timeout_s: float = 300):
        self.server, self.interval_s, self.start_timeout_s = server, interval_s, start_timeout_s
        self.on_restart = on_restart or (lambda reason: None)
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a launch and a stop never interleave
        self._thread = threading.Thread(target=self._watch, name="triton-supervisor", daemon=True)

    def start(self) -> Supervisor:
        """The first start; a server SIGKILLed while it starts (an OOM kill, an operator) is restarted as any
        later one is, while one that fails by itself (a broken repository, a timeout) stops the supervisor."""
        try:
            self.server.start(self.start_timeout_s)
        except TritonStartError:
            process = self.server.process
            if process is None or process.returncode != -signal.SIGKILL:
                raise
            log.warning("tritonserver was killed while it started: the watch restarts it")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self.server.stop()
        if self._thread.is_alive():
            self._thread.join(60)

    def reap_orphans(self) -> list[int]:
        """Reap the orphans reparented to this process; never the server (a launch holds the lock, so the
        server's pid is known while it is read)."""
        with self._lock:
            keep = {self.server.process.pid} if self.server.process else set()
            return reap_orphans(keep)

    def _watch(self) -> None:
        up_since, unanswered_since, failures = time.monotonic(), None, 0
        while not self._stopping.wait(self.interval_s):
            reason, detail = self._fault(unanswered_since)
            if reason == "unanswered":
                unanswered_since = unanswered_since or time.monotonic()
                continue
            unanswered_since = None
            if reason is None:
                continue
            failures = 1 if time.monotonic() - up_since > STABLE_S else failures + 1
            log.warning("tritonserver %s (%s): restarting it (restart %d)", reason, detail, self.restarts + 1)
            self.restarts += 1
            self.on_restart(reason)
            if self._restart(failures):
                up_since = time.monotonic()

    def _fault(self, unanswered_since: float | None) -> tuple[str | None, str]:
        process = self.server.process
        if process is None or process.poll() is not None:
            return "exited", f"status {process.returncode if process else 'never started'}"
        dead = self.server.dead_instances()
        if dead:
            return "instance_died", f"stub {', '.join(map(str, dead))} gone"
        if self.server.live():
            return None, ""
        if unanswered_since and time.monotonic() - unanswered_since > UNANSWERED_S:
            return "unresponsive", f"no answer to health checks for {UNANSWERED_S:g} s"
        return "unanswered", ""

    def _restart(self, failures: int) -> bool:
        """Kill what is left, wait out the backoff, start again until it is ready or the supervisor stops."""
        while not self._stopping.is_set():
            self.server.kill()
            delay = BACKOFF_S[min(failures - 1, len(BACKOFF_S) - 1)]
            if self._stopping.wait(delay):
                return False
            try:
                with self._lock:
                    if self._stopping.is_set():
                        return False
                    self.server.launch()
                self.server.wait_ready(self.start_timeout_s)
                log.info("tritonserver ready again after restart %d", self.restarts)
                return True
            except (TritonStartError, OSError) as e:  # the watch goes on whatever a start does
                if self._stopping.is_set():
                    return False
                log.error("tritonserver did not come back: %s", e)
                failures += 1
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, required=True)
    parser.add_argument("--http-port", type=int, default=8000)
    parser.add_argument("--grpc-port", type=int, default=8001)
    parser.add_argument("--metrics-port", type=int, default=8002)
    parser.add_argument("--tritonserver", help="an installed server to run (NVIDIA's image); default: the wheel's")
    parser.add_argument("--address", default=LOOPBACK,
                        help="the address Triton's endpoints listen on (default: loopback; the images: 0.0.0.0)")
    args, extra = parser.parse_known_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = TritonServer(args.model_repository, args.http_port, args.grpc_port, args.metrics_port,
                          log_path=Path("/dev/stdout"), extra=extra, tritonserver=args.tritonserver,
                          address=args.address)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # as PID 1 in a container, unhandled SIGTERM is ignored
        signal.signal(signum, lambda *_: stopped.set())
    reaps = adopts_orphans()
    supervisor = Supervisor(server).start()
    try:
        while not stopped.wait(1):
            if reaps:
                for pid in supervisor.reap_orphans():
                    log.info("reaped orphan %d", pid)
    finally:
        supervisor.stop()
        if reaps:
            reap_orphans(set())
    return 0


if __name__ == "__main__":
    sys.exit(main())
