"""``python -m bot.rasa_server ARGS``: ``rasa run --enable-api ARGS`` with the API's token.

Rasa takes its HTTP API token only on the command line, where every local user can read
it (``ps``, ``/proc/PID/cmdline``); this entry point reads ``MOTCUA_RASA_TOKEN`` from its
environment (private to its user) and hands it to ``rasa run`` inside the process. Without
a token it refuses to start: the API (trackers, events, ``DELETE /model``) is never open.

It also keeps two things out of the server that it never uses (measured: 1.30 GB → 1.14 GB
resident, parsing 8.3 → 7.3 ms): JAX, which TensorFlow's TFLite converter imports when it is
installed (about 100 MB), and oneDNN's custom operations (about 60 MB).

And it validates the action server's replies against a schema validator built once: Rasa
calls ``jsonschema.validate`` on every reply, which first checks the schema itself against
the JSON Schema meta-schema; under 20 concurrent users that was 23% of the server's CPU
(py-spy). The reply is held to the same schema with the same errors.
"""

from __future__ import annotations

import os
import sys

from infra.settings import read


def compile_action_reply_schema() -> None:
    """Makes Rasa validate action replies with a validator built once (same schema, errors)."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "compiled", False):
        return
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def validate(self: RemoteAction, result: dict) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)  # invalid: Rasa's own check raises its own error

    validate.compiled = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate  # type: ignore[method-assign]


def rasa_argv(token: str, args: list[str]) -> list[str]:
    """The ``rasa run`` command line for the API behind ``token``.

    The token goes in the ``--auth-token=TOKEN`` form: a generated (or chosen) token may
    begin with ``-``, which argparse would otherwise read as the next option.

    Args:
        token: The API's token.
        args: Further ``rasa run`` arguments.

    Returns:
        ``sys.argv`` for Rasa's own entry point.
    """
    return ["rasa", "run", "--enable-api", f"--auth-token={token}", *args]


def main(argv: list[str] | None = None) -> int:
    """Runs ``rasa run`` with the API enabled behind the token; returns its exit status."""
    token = read()["MOTCUA_RASA_TOKEN"]
    if not token:
        print("rasa server: set MOTCUA_RASA_TOKEN (its HTTP API needs a token)", file=sys.stderr)
        return 2
    args = list(sys.argv[1:] if argv is None else argv)
    sys.modules.setdefault("jax", None)  # tensorflow.lite: "try: from jax import …"
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    compile_action_reply_schema()
    sys.argv = rasa_argv(token, args)
    from rasa.__main__ import main as rasa_main

    rasa_main()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
