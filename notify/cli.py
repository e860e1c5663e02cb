"""``motcua dossiers simulate CODE STATUS``: a signed status event, as one-stop systems send."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from datetime import datetime, timezone

from notify.signing import event_key, signed_headers


def build_event(code: str, status: str, *, urgent: bool = False, note: str = "") -> dict:
    """A status event for ``code`` moving to ``status`` now, with a fresh ``event_id``."""
    return {
        "event_id": f"sim-{secrets.token_hex(8)}",
        "code": code,
        "status": status,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "urgent": urgent,
        "note": note,
    }


def cmd_simulate(args: argparse.Namespace) -> int:
    """Signs an event and posts it to the notifier (or prints it with ``--print``)."""
    import httpx

    from infra.settings import read

    values = read()
    key = event_key(values["MOTCUA_NOTIFY_SECRET"], values["MOTCUA_HOME"])
    event = build_event(args.code, args.status, urgent=args.urgent, note=args.note)
    body = json.dumps(event, ensure_ascii=False).encode("utf-8")
    headers = signed_headers(key, body, int(time.time()))
    if args.print:
        print(json.dumps({"headers": headers, "body": event}, ensure_ascii=False, indent=2))
        return 0
    host, port = values["MOTCUA_NOTIFY_LISTEN"]
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url = args.url or f"http://{host}:{port}/dossiers/events"
    try:
        resp = httpx.post(url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        print(
            f"cannot reach the notifier at {url}: {exc} (is `python -m notify` running?)",
            file=sys.stderr,
        )
        return 1
    print(resp.text)
    return 0 if resp.status_code == 200 else 1


def add_parsers(dossiers_sub: argparse._SubParsersAction) -> None:
    """Adds ``simulate`` under ``motcua dossiers``."""
    from desk.dossiers import STORED_STATUSES

    sim = dossiers_sub.add_parser(
        "simulate", help="send a signed status event to the notifier (demos, tests)"
    )
    sim.add_argument("code", help="the dossier code")
    sim.add_argument("status", choices=STORED_STATUSES)
    sim.add_argument("--urgent", action="store_true", help="deliver even in quiet hours")
    sim.add_argument("--note", default="", help="a note for staff")
    sim.add_argument("--url", help="the endpoint (default: MOTCUA_NOTIFY_LISTEN's)")
    sim.add_argument("--print", action="store_true", help="print the signed request, send nothing")
    sim.set_defaults(func=cmd_simulate)
