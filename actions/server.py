"""Entry point of the action server: open the catalogue first, then serve rasa-sdk.

Usage: ``python -m actions.server [--port 5055]``. Opening the catalogue, the
index and the embedding model before accepting requests keeps the first
citizen's answer as fast as the rest; the port is checked first because
Sanic logs "up and running" even when it cannot bind.

Besides rasa-sdk's ``/webhook`` and ``/health`` it serves ``/motcua/status``: the index
version it answers from (``motcua serve``'s health check compares every action
server's version with the published one).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys


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
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("MOTCUA_ACTIONS_PORT", 5055))
    )
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
    serve(args.port)
    return 0


def serve(port: int) -> None:
    """Runs rasa-sdk's action app with the ``/motcua/status`` route added."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager
    from sanic import response

    from actions.runtime import get_runtime

    app = create_app("actions", cors_origins="*")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)

    @app.get("/motcua/status")
    async def status(_request):
        return response.json({"status": "ok", **get_runtime().status()})

    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    logging.getLogger(__name__).info("action server on http://%s:%d", host, port)
    app.run(host, port, workers=1, access_log=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
