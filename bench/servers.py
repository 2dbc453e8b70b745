"""Gunicorn servers for the benchmark: one settings file for all, start, stop, and worker memory."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The production settings of gunicorn.conf.py (gthread, 4 threads, keep-alive 5 s), the same for our
# app and both references. Two differ on purpose: no worker is recycled mid-measurement
# (max_requests 0), and a worker may take two minutes to boot on a machine that is busy.
SETTINGS = '''\
worker_class = "gthread"
threads = 4
timeout = 120
graceful_timeout = 5
keepalive = 5
max_requests = 0
preload_app = False
accesslog = None
loglevel = "info"
control_socket_disable = True
worker_tmp_dir = "/dev/shm" if __import__("os").path.isdir("/dev/shm") else None


def post_worker_init(worker):
    worker.log.info("bench-ready %s", worker.pid)
'''
LISTENING = re.compile(r"Listening at: http://([\d.]+):(\d+)")
READY = re.compile(r"bench-ready (\d+)")
START_TIMEOUT = 240.0


@dataclass
class Server:
    """A running gunicorn master, its address and its log."""

    name: str
    workers: int
    process: subprocess.Popen[bytes]
    log: Path
    host: str = ""
    port: int = 0

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The master's live worker processes."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            return [int(c) for c in children]
        except OSError:
            return []


class Fleet:
    """Every server this run started, so that all of them are stopped whatever happens."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config = directory / "gunicorn.bench.py"
        self.config.write_text(SETTINGS)
        self.running: list[Server] = []

    def start(self, name: str, gunicorn: Path, app: str, workers: int, env: Mapping[str, str],
              cwd: Path) -> Server:
        """Start `app` with `workers` workers on a free loopback port; wait until all serve."""
        log = self.directory / f"{name}-{workers}w-{int(time.time() * 1000)}.log"
        command = [str(gunicorn), app, "--config", str(self.config), "--workers", str(workers),
                   "--bind", "127.0.0.1:0", "--error-logfile", str(log)]
        with open(log, "ab") as early:
            # A session of its own: a stuck shutdown can be ended for the master and its workers.
            process = subprocess.Popen(command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=early,
                                       start_new_session=True)
        server = Server(name, workers, process, log)
        self.running.append(server)
        try:
            self._wait_ready(server)
        except BaseException:
            self.stop(server)
            raise
        return server

    def _wait_ready(self, server: Server) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = server.log.read_text(errors="replace")
            match = LISTENING.search(text)
            if match and len(set(READY.findall(text))) >= server.workers:
                server.host, server.port = match.group(1), int(match.group(2))
                return
            if server.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{server.name} did not start:\n{server.log.read_text()[-3000:]}")

    def stop(self, server: Server) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL to the whole group."""
        if server.process.poll() is None:
            try:
                os.killpg(server.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.process.wait(timeout=10)
        if server in self.running:
            self.running.remove(server)

    def stop_all(self) -> None:
        """Stop every server still running."""
        for server in list(self.running):
            self.stop(server)


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class MemorySampler:
    """Polls each worker's VmHWM (peak resident memory) while a server runs; keeps the maximum."""

    server: Server
    interval: float = 0.2
    peaks: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        """Read every worker's high-water mark now."""
        for pid in self.server.worker_pids():
            self.peaks[pid] = max(self.peaks.get(pid, 0), _status_kb(pid, "VmHWM"))

    def peak_mb(self) -> float:
        """The largest worker peak so far, in MB (10^6 bytes)."""
        self.sample()
        return round(max(self.peaks.values(), default=0) * 1024 / 1e6, 1)

    def rss_mb(self) -> float:
        """The largest resident size of any worker right now, in MB."""
        sizes = [_status_kb(pid, "VmRSS") for pid in self.server.worker_pids()]
        return round(max(sizes, default=0) * 1024 / 1e6, 1)

    def close(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(timeout=2)
