"""Entry point of the action server: open the catalogue first, then serve rasa-sdk.

Usage: ``python -m actions.server [--port 5055]``. Opening the catalogue, the
index and the embedding model before accepting requests keeps the first
citizen's answer as fast as the rest; the port is checked first because
Sanic logs "up and running" even when it cannot bind.
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
    from rasa_sdk.endpoint import run

    run("actions", port=args.port)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
