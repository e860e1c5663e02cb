"""Memory of the embedded default: the resident size of every process of ``motcua run``.

Starts ``motcua run`` on a temporary ``MOTCUA_HOME`` (SQLite, built-in catalogue, the
packaged embedding model, the cached dialogue model) on free ports, waits until the REST
channel answers a real question, then prints the RSS of the launcher, the Rasa server, the
action server and the staff console (and any other child), what each one has loaded (from
its memory map: TensorFlow, torch, FAISS) and the total.

Usage:
    python benchmarks/bench_footprint.py [--json] [--settle 5]

Target (issue 12): launcher <= 150 MB, the whole embedded default <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LIBRARIES = {
    "TensorFlow": "libtensorflow",
    "torch": "libtorch",
    "CUDA": "libcudnn",
    "FAISS": "_swigfaiss",
    "JAX": "xla_extension",
}
"""What a process holds, told by a shared library in its memory map."""

ROLES = (
    ("bot.cli run", "launcher"),
    ("rasa run", "Rasa server"),
    ("bot.rasa_server", "Rasa server"),
    ("actions.server", "action server"),
    ("staff.server", "staff console"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(tree.get(current, []))
    return out


def rss_mb(pid: int) -> float:
    """Resident set size in MB (psutil when installed, else ``/proc``)."""
    try:
        import psutil

        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except ImportError:
        pass
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def holds(pid: int) -> list[str]:
    """The heavy libraries mapped into ``pid``."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return []
    return [name for name, marker in LIBRARIES.items() if marker in maps]


def role(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    return next((r for marker, r in ROLES if marker in command), command[:60])


def answered(url: str) -> bool:
    body = json.dumps({"sender": "footprint", "message": "làm hộ chiếu cần giấy tờ gì"})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return bool(json.loads(resp.read()))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait after answering")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds to wait for it")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="motcua-footprint-"))
    rasa_port = free_port()
    env = dict(
        os.environ,
        MOTCUA_HOME=str(home),
        MOTCUA_RASA_PORT=str(rasa_port),
        MOTCUA_ACTIONS_PORT=str(free_port()),
        MOTCUA_STAFF_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    for name in ("MOTCUA_DATABASE_URL", "MOTCUA_INDEX_DIR", "MOTCUA_TRACKER_STORE_URL"):
        env.pop(name, None)
    log_path = home / "run.log"
    with open(log_path, "w") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    started = time.monotonic()
    try:
        while not ("motcua: ready." in log_path.read_text() and answered(url)):
            if launcher.poll() is not None or time.monotonic() - started > args.timeout:
                print(log_path.read_text()[-3000:], file=sys.stderr)
                return 1
            time.sleep(2)
        ready_s = time.monotonic() - started
        time.sleep(args.settle)
        processes = [
            {"pid": pid, "role": role(pid), "rss_mb": rss_mb(pid), "holds": holds(pid)}
            for pid in descendants(launcher.pid)
        ]
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
    total = round(sum(p["rss_mb"] for p in processes), 1)
    if args.json:
        print(json.dumps({"ready_s": round(ready_s), "processes": processes, "total_mb": total}))
        return 0
    print(f"ready and answering after {ready_s:.0f} s")
    for p in processes:
        print(f"{p['role']:<15} {p['rss_mb']:>8.1f} MB  {', '.join(p['holds']) or '-'}")
    print(f"{'total':<15} {total:>8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
