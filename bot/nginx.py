"""nginx's config for ``motcua serve``, rendered from ``deploy/nginx.conf.tmpl`` and checked."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from bot.errors import RunError
from bot.plan import LaunchSettings, nginx_command
from infra.settings import ROOT

TEMPLATE = ROOT / "deploy" / "nginx.conf.tmpl"


def render_nginx(settings: LaunchSettings, template: Path = TEMPLATE) -> str:
    """Returns nginx's config for ``settings`` from the template.

    Raises:
        ValueError: When the template names a value that does not exist.
    """

    def servers(ports: list[int]) -> str:
        return "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports
        )

    values = {
        "listen": settings.listen,
        "staff_listen": settings.staff_listen,
        "actions_balancer_port": str(settings.actions_balancer_port),
        "health_port": str(settings.health_port),
        "staff_port": str(settings.staff_port),
        "rasa_servers": servers(settings.rasa_ports),
        "action_servers": servers(settings.actions_ports),
        "worker_processes": "1" if (os.cpu_count() or 1) <= 2 else "2",
        # Started as root, workers would be nobody, who cannot reach tmp/ (see write_nginx).
        "user": "user root root;\n" if os.geteuid() == 0 else "",
    }

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"{template.name}: unknown placeholder {{{{ {name} }}}}")
        return values[name]

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", fill, template.read_text("utf-8"))


def write_nginx(settings: LaunchSettings, run_dir: Path) -> list[str]:
    """Writes ``run_dir/nginx.conf`` and its folders; returns the nginx command line.

    nginx's workers buffer large bodies in ``tmp/``. Started as root, nginx would run its
    workers as ``nobody``, who cannot reach a private ``$MOTCUA_HOME``; the config then
    keeps them as the launcher's user (run ``motcua serve`` as a dedicated user instead).
    """
    for sub in ("logs", "tmp"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    (run_dir / "nginx.conf").write_text(render_nginx(settings), encoding="utf-8")
    return nginx_command(run_dir)


def check_nginx(command: list[str]) -> None:
    """Runs ``nginx -t`` on the rendered config.

    Raises:
        RunError: With nginx's own message when the config is invalid.
    """
    result = subprocess.run(
        [*command[:-2], "-t"], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        raise RunError(f"nginx rejects its config:\n{result.stderr.strip()}")
