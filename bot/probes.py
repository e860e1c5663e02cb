"""What "ready" and "still answering" mean for each kind of server (one health model).

The supervisor waits for a part's readiness probe before starting the next stage and runs
its answering probe periodically (a hung server keeps its port open: only a real request
tells); ``/health`` of ``motcua serve`` reports the same probes. Every probe is a plain
HTTP request to 127.0.0.1 with a timeout and returns a bool or the parsed body, never
raises.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

PROBE_TEXT = "xin chào"
"""What the answering probe asks a Rasa server's NLU (no conversation is created)."""


def get_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    """GETs ``url``; returns ``(status, JSON body)``, ``(0, {})`` when nothing answers."""
    return _request(urllib.request.Request(url), timeout)


def post_json(url: str, body: dict, timeout: float = 2.0) -> tuple[int, dict]:
    """POSTs ``body`` as JSON; returns ``(status, JSON body)``, ``(0, {})`` when nothing answers."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    return _request(request, timeout)


def _request(request: urllib.request.Request, timeout: float) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = json.loads(resp.read() or b"{}")
            return resp.status, body if isinstance(body, dict) else {"body": body}
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except (urllib.error.URLError, OSError, ValueError):
        return 0, {}


def _token(token: str) -> str:
    return f"?token={quote(token)}" if token else ""


def rasa_status(port: int, token: str = "", timeout: float = 2.0) -> dict | None:
    """Rasa's ``/status`` (through its API token) when a model is loaded, else ``None``."""
    code, body = get_json(f"http://127.0.0.1:{port}/status{_token(token)}", timeout)
    return body if code == 200 and body.get("model_file") else None


def rasa_answers(port: int, token: str = "", timeout: float = 30.0) -> bool:
    """Whether the Rasa server at ``port`` still understands a message (``/model/parse``).

    A parse goes through the same event loop and NLU pipeline as a citizen's message, so a
    server whose loop hangs or whose model is gone fails it, while its port stays open.
    """
    url = f"http://127.0.0.1:{port}/model/parse{_token(token)}"
    code, body = post_json(url, {"text": PROBE_TEXT}, timeout)
    return code == 200 and bool((body.get("intent") or {}).get("name"))


def http_ok(port: int, path: str = "/health", timeout: float = 2.0) -> bool:
    """Whether ``GET path`` answers ``{"status": "ok"}`` (rasa-sdk's and the console's health)."""
    code, body = get_json(f"http://127.0.0.1:{port}{path}", timeout)
    return code == 200 and body.get("status") == "ok"


def actions_status(port: int, timeout: float = 2.0) -> dict | None:
    """An action server's ``/motcua/status`` (the index version it answers from), or ``None``."""
    code, body = get_json(f"http://127.0.0.1:{port}/motcua/status", timeout)
    return body if code == 200 else None


def actions_indexed(port: int, timeout: float = 2.0) -> bool:
    """Whether the action server at ``port`` answers from a published index version."""
    return bool((actions_status(port, timeout) or {}).get("index_version"))


def index_current(database_url: str, index_dir: Path) -> bool:
    """Whether the published index version is that of the catalogue in the database."""
    from knowledge.catalogue import CatalogueStore  # SQLAlchemy and FAISS: serve only
    from knowledge.index import IndexVersions

    manifest = IndexVersions(index_dir).manifest()
    if manifest is None:
        return False
    store = CatalogueStore(database_url)
    try:
        return manifest.fingerprint == store.fingerprint()
    finally:
        store.dispose()


def bind(probe: Callable[..., object], *args: object, **kwargs: object) -> Callable[[], bool]:
    """``probe`` with its arguments fixed, as a no-argument check returning a bool."""
    return lambda: bool(probe(*args, **kwargs))
