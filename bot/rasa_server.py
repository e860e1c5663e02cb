"""``python -m bot.rasa_server ARGS``: ``rasa run --enable-api ARGS`` with the API's token.

Rasa takes its HTTP API token only on the command line, where every local user can read
it (``ps``, ``/proc/PID/cmdline``); this entry point reads ``MOTCUA_RASA_TOKEN`` from its
environment (private to its user) and hands it to ``rasa run`` inside the process. Without
a token it refuses to start: the API (trackers, events, ``DELETE /model``) is never open.

It also keeps two things out of the server that it never uses (measured: 1.30 GB → 1.14 GB
resident, parsing 8.3 → 7.3 ms): JAX, which TensorFlow's TFLite converter imports when it is
installed (about 100 MB), and oneDNN's custom operations (about 60 MB).
"""

from __future__ import annotations

import os
import sys

from infra.settings import read


def main(argv: list[str] | None = None) -> int:
    """Runs ``rasa run`` with the API enabled behind the token; returns its exit status."""
    token = read()["MOTCUA_RASA_TOKEN"]
    if not token:
        print("rasa server: set MOTCUA_RASA_TOKEN (its HTTP API needs a token)", file=sys.stderr)
        return 2
    args = list(sys.argv[1:] if argv is None else argv)
    sys.modules.setdefault("jax", None)  # tensorflow.lite: "try: from jax import …"
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    sys.argv = ["rasa", "run", "--enable-api", "--auth-token", token, *args]
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
