"""Starts a plan's parts in stages and keeps them running and answering.

One supervisor for ``motcua run`` and ``motcua serve``: each part's output goes to
``logs/<name>.log`` (its pid to ``logs/<name>.pid``), ``run/cluster.json`` lists the
parts; a part that exits, or whose answering probe fails several times in a row (a hung
server keeps its port open), is started again when the plan restarts parts, else
everything stops with the end of its log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from actions.server import port_free as _free_on
from bot.errors import RunError
from bot.plan import ROOT, Part

PROBE_INTERVAL_S = 15.0
"""How often each part's answering probe runs."""

PROBE_FAILURES = 3
"""Failed probes in a row after which a part counts as not answering."""


def port_free(port: int) -> bool:
    """Tells whether nothing listens on ``port`` on any interface."""
    return _free_on(port, "0.0.0.0")


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def wait_port_free(port: int, timeout: float) -> bool:
    """Waits until ``port`` is free; tells whether it became free in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_free(port):
            return True
        time.sleep(0.5)
    return False


@contextmanager
def stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Turns SIGINT and SIGTERM into a flag a supervising loop polls; restores the handlers.

    Yields:
        A function that tells whether a stop was asked for.
    """
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Supervisor:
    """The launcher's children: started, waited for, watched, restarted, stopped.

    Args:
        logs_dir: Where each part's log and pid file go.
        run_dir: Where ``cluster.json`` goes.
        restart: Start a part that died or stopped answering again (else raise).
        log: Where progress lines go.
        manifest: Extra fields for ``cluster.json``.
        probe_interval: Seconds between answering probes.
        probe_failures: Failed probes in a row that make a part "not answering".
    """

    def __init__(
        self,
        logs_dir: Path,
        run_dir: Path,
        *,
        restart: bool,
        log=print,
        manifest: dict | None = None,
        probe_interval: float = PROBE_INTERVAL_S,
        probe_failures: int = PROBE_FAILURES,
    ) -> None:
        self.logs_dir, self.run_dir = logs_dir, run_dir
        self.restart, self.log = restart, log
        self.extra = manifest or {}
        self.probe_interval, self.probe_failures = probe_interval, probe_failures
        self.parts: dict[str, Part] = {}
        self.processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._generation: dict[str, int] = {}
        self._failures: dict[str, int] = {}
        self._answering: dict[str, bool] = {}
        self._started_at: dict[str, float] = {}
        self._watching = threading.Event()
        self._watchdog: threading.Thread | None = None

    # --- one part

    def log_path(self, name: str) -> Path:
        """The log file of part ``name``."""
        return self.logs_dir / f"{name}.log"

    def start(self, part: Part) -> None:
        """Starts ``part`` with its output in its log."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(part.name), "ab") as out:
            process = subprocess.Popen(
                part.command, cwd=ROOT, env=part.env, stdout=out, stderr=subprocess.STDOUT
            )
        with self._lock:
            self.parts[part.name] = part
            self.processes[part.name] = process
            self._generation[part.name] = self._generation.get(part.name, 0) + 1
            self._failures[part.name] = 0
            self._answering[part.name] = False  # until its readiness probe passes again
            self._started_at[part.name] = time.monotonic()
        (self.logs_dir / f"{part.name}.pid").write_text(str(process.pid))
        self._write_manifest()

    def tail(self, name: str, lines: int = 15) -> str:
        """Returns the end of a part's log."""
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def alive(self, name: str) -> bool | None:
        """Whether the part ``name`` runs (``None`` when there is no such part)."""
        process = self.processes.get(name)
        return None if process is None else process.poll() is None

    def wait_ready(self, parts: list[Part]) -> None:
        """Waits for each part's readiness probe.

        Raises:
            RunError: When a part exits or is not ready in its ``ready_timeout``.
        """
        for part in parts:
            if part.ready is None:
                continue
            deadline = time.monotonic() + part.ready_timeout
            process = self.processes[part.name]
            while not part.ready():
                if process.poll() is not None:
                    raise RunError(
                        f"the {part.name} server exited (status {process.returncode}):\n"
                        f"{self.tail(part.name)}"
                    )
                if time.monotonic() > deadline:
                    raise RunError(
                        f"the {part.name} server did not become ready in "
                        f"{part.ready_timeout:.0f} s:\n{self.tail(part.name)}"
                    )
                time.sleep(0.5)
            with self._lock:
                self._answering[part.name] = True

    def _write_manifest(self) -> None:
        parts = {
            name: {
                "pid": self.processes[name].pid,
                "port": part.port,
                "log": str(self.log_path(name)),
                "restarts": len(part.restarts),
            }
            for name, part in self.parts.items()
        }
        data = {**self.extra, "launcher_pid": os.getpid(), "parts": parts}
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.run_dir / ".cluster.json.tmp"
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(self.run_dir / "cluster.json")

    # --- watching

    def _probe(self, name: str) -> None:
        """Runs one part's probe and counts a failure (called by the watchdog thread).

        A part started again is first asked its readiness probe (a Rasa server loads its
        model for a minute); one not ready within its ``ready_timeout`` counts as not
        answering.
        """
        with self._lock:
            part, generation = self.parts[name], self._generation[name]
            answering, started = self._answering[name], self._started_at[name]
        ok = part.answers() if answering else bool(part.ready is None or part.ready())
        with self._lock:
            if self._generation[name] != generation:
                return  # restarted meanwhile: the result is about the old process
            if ok:
                self._answering[name], self._failures[name] = True, 0
            elif answering:
                self._failures[name] += 1
            elif time.monotonic() - started > part.ready_timeout:
                self._failures[name] = self.probe_failures

    def _watch(self) -> None:
        while not self._watching.wait(self.probe_interval):
            names = [n for n, p in list(self.parts.items()) if p.answers and self.alive(n)]
            threads = [threading.Thread(target=self._probe, args=(n,)) for n in names]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    def not_answering(self) -> list[str]:
        """The running parts whose answering probe failed ``probe_failures`` times in a row."""
        with self._lock:
            return [n for n, f in self._failures.items() if f >= self.probe_failures]

    def supervise(self, stopping: Callable[[], bool]) -> None:
        """Keeps the parts running and answering until ``stopping()`` is true.

        Raises:
            RunError: When restarts are off and a part died or stopped answering, or a part
                died 5 times in 5 minutes.
        """
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()
        while not stopping():
            for name, process in list(self.processes.items()):
                if process.poll() is not None and not stopping():
                    self._again(
                        name, f"exited (status {process.returncode})", "stopped unexpectedly"
                    )
            for name in self.not_answering():
                if not stopping():
                    failures = self._failures[name]
                    self._again(
                        name, f"stopped answering ({failures} probes failed)", "stopped answering"
                    )
            time.sleep(0.5)

    def _again(self, name: str, what: str, why: str) -> None:
        part, tail = self.parts[name], self.tail(name, 5)
        if not self.restart:
            raise RunError(f"the {name} server {why}:\n{tail}")
        now = time.monotonic()
        part.restarts = [t for t in part.restarts if now - t < 300] + [now]
        if len(part.restarts) > 5:
            raise RunError(f"the {name} process keeps dying:\n{tail}")
        self.log(f"motcua: {name} {what}; starting it again")
        self._end(self.processes[name], grace=5)
        if part.port and not wait_port_free(part.port, 30):
            self.log(f"motcua: port {part.port} of {name} is still taken; trying anyway")
        self.start(part)

    # --- stopping

    @staticmethod
    def _end(process: subprocess.Popen, grace: float) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self, grace: float = 10.0) -> None:
        """Stops every part: SIGTERM, then SIGKILL after ``grace`` seconds."""
        self._watching.set()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            (self.logs_dir / f"{name}.pid").unlink(missing_ok=True)
