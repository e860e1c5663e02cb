"""Entry point of the action server: open the catalogue first, then serve rasa-sdk.

Usage: ``python -m actions.server [--port 5055] [--host 127.0.0.1]``. Opening the catalogue, the
index and the embedding model before accepting requests keeps the first
citizen's answer as fast as the rest; the port is checked first because
Sanic logs "up and running" even when it cannot bind.

Besides rasa-sdk's ``/webhook`` and ``/health`` it serves ``/motcua/status``: the index
version it answers from (``motcua serve``'s health check compares every action
server's version with the published one).

It listens on 127.0.0.1 (only Rasa calls it) and, when ``MOTCUA_ACTIONS_TOKEN`` is set (the
launcher always sets one), refuses ``/webhook`` calls without ``Authorization: Bearer
<token>``: rasa-sdk 3.6 has no authentication of its own, and an action call can look up
dossiers and write the conversation log. ``/health`` and ``/motcua/status`` stay open on
127.0.0.1 for the launcher's probes.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import socket
import sys

from infra.settings import read

OPEN_PATHS = frozenset({"/health", "/motcua/status"})
"""What answers without the token (probes; nothing personal)."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Tells whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Warms up and runs the action server; returns an exit status."""
    parser = argparse.ArgumentParser(prog="python -m actions.server")
    settings = read()
    parser.add_argument("--port", type=int, default=settings["MOTCUA_ACTIONS_PORT"])
    parser.add_argument("--host", default="127.0.0.1", help="interface (only Rasa calls it)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from infra.privacy import install_log_filter

    install_log_filter()  # no ID number, phone or e-mail in the action server's log
    if not port_free(args.port, "0.0.0.0"):
        print(f"action server: port {args.port} is already in use", file=sys.stderr)
        return 2
    from actions.runtime import warm_up
    from knowledge.catalogue import CatalogueUnavailable

    try:
        warm_up()
    except CatalogueUnavailable as exc:
        print(f"action server: {exc}", file=sys.stderr)
        return 1
    serve(args.port, args.host, settings["MOTCUA_ACTIONS_TOKEN"])
    return 0


def create_app(token: str = ""):
    """rasa-sdk's action app with ``/motcua/status`` and, given a token, its check.

    Args:
        token: The shared token Rasa sends (``endpoints.yml``'s ``action_endpoint``
            header); empty: no check (an action server started by hand for development).
    """
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from rasa_sdk.plugin import plugin_manager
    from sanic import response

    from actions.runtime import get_runtime

    app = create_sdk_app("actions", cors_origins="*")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    expected = f"Bearer {token}".encode()

    @app.on_request
    async def require_token(request):
        if not token or request.path in OPEN_PATHS:
            return None
        given = (request.headers.get("Authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    @app.get("/motcua/status")
    async def status(_request):
        return response.json({"status": "ok", **get_runtime().status()})

    return app


def serve(port: int, host: str = "127.0.0.1", token: str = "") -> None:
    """Runs the action app on ``host:port``."""
    if not token:
        logging.getLogger(__name__).warning("MOTCUA_ACTIONS_TOKEN unset: no token checked")
    logging.getLogger(__name__).info("action server on http://%s:%d", host, port)
    create_app(token).run(host, port, workers=1, access_log=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
