"""The launcher's one error: a problem to report in one line, then stop."""

from __future__ import annotations


class RunError(RuntimeError):
    """A problem to report in one line (port taken, model missing, a server died)."""
