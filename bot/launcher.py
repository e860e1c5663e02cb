"""``motcua run`` and ``motcua serve``: one launcher over a plan of processes.

1. read the settings and make the plan (:mod:`bot.plan`); every port it binds must be free;
2. ``motcua serve``: render nginx's config and have nginx check it;
3. prepare the data in a child process (:mod:`bot.prepare`: catalogue, index, demo
   dossiers when the plan asks, channel credentials), so this process never loads the
   catalogue, torch or Rasa and stays small while it supervises;
4. train the dialogue model when its training data changed (:mod:`bot.model`);
5. write ``endpoints.yml`` (the action endpoint with its token, the stores);
6. start the stages, each checked by its probes before the next, serve ``/health`` when
   the plan has a health port, and supervise (:mod:`bot.supervisor`) until Ctrl-C or
   SIGTERM.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bot.errors import RunError
from bot.health import Health, HealthServer
from bot.model import model_path, train
from bot.nginx import check_nginx, write_nginx
from bot.plan import ROOT, LaunchSettings, Plan, child_env, run_plan, serve_plan
from bot.render import write_endpoints
from bot.supervisor import Supervisor, ephemeral_range, port_free, stop_on_signals
from infra.settings import listen as parse_listen


def check_ports(plan: Plan, log=print) -> None:
    """Raises :class:`RunError` for a port of the plan already in use.

    Warns about a port in the kernel's ephemeral range when parts are restarted: an
    outgoing connection may take it while that part is down.
    """
    low, high = ephemeral_range()
    for what, (port, variable) in plan.ports.items():
        if not port_free(port):
            hint = f"; stop what runs there or set {variable}" if variable else ""
            raise RunError(f"port {port} for the {what} is already in use{hint}")
        if plan.restart and low <= port <= high:
            log(
                f"motcua: warning: port {port} ({what}) is in the kernel's ephemeral range "
                f"{low}-{high}; an outgoing connection may take it while that part restarts"
            )


def prepare(plan: Plan, log=print) -> list[str]:
    """Runs the preparing step in a child process; returns the channels enabled.

    Raises:
        RunError: With the child's error when it fails (e.g. a database it cannot reach).
    """
    command = [sys.executable, "-m", "bot.prepare", "--credentials", str(plan.credentials)]
    command += ["--index"] * plan.build_index + ["--demo"] * plan.demo
    result = subprocess.run(
        command, cwd=ROOT, env=child_env(), capture_output=True, text=True, check=False
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = "\n".join((result.stderr.strip() or result.stdout.strip()).splitlines()[-15:])
        raise RunError(tail or f"preparing failed (exit {result.returncode})")
    for line in lines[:-1]:
        log(line)
    return json.loads(lines[-1])["channels"]


def banner(plan: Plan, channels: list[str]) -> str:
    """What the launcher prints once every part is ready."""
    s = plan.settings
    if plan.mode == "run":
        url = f"http://localhost:{s.rasa_port}/webhooks/rest/webhook"
        return (
            "motcua: ready.\n"
            f"  channels: {', '.join(channels)}\n"
            f"  REST:    POST {url}\n"
            f"  example: curl -s {url} -H 'Content-Type: application/json' "
            '-d \'{"sender": "me", "message": "làm hộ chiếu cần giấy tờ gì"}\'\n'
            f"  health:  http://127.0.0.1:{s.actions_port}/health (actions); Rasa's HTTP API "
            "answers only with MOTCUA_RASA_TOKEN\n"
            f"  staff:   http://localhost:{s.staff_port}/ (accounts: motcua staff create-user)\n"
            f"  logs:    {s.logs_dir}\n"
            "  Ctrl-C stops every server."
        )
    host, port = parse_listen(s.listen)
    shown = "localhost" if host in ("0.0.0.0", "", "*") else host
    url = f"http://{shown}:{port}"
    return (
        "motcua: cluster ready.\n"
        f"  channels: {', '.join(channels)}\n"
        f"  REST:     POST {url}/webhooks/rest/webhook\n"
        f"  health:   {url}/health\n"
        f"  staff:    http://{s.staff_listen}/\n"
        f"  parts:    {s.run_dir / 'cluster.json'}; logs: {s.logs_dir}\n"
        "  Ctrl-C stops everything."
    )


def launch(plan: Plan, *, force_train: bool = False, log=print) -> int:
    """Prepares what is missing, starts the plan's parts and supervises them.

    Returns:
        The exit status (0 after Ctrl-C or SIGTERM).

    Raises:
        RunError: For a port in use, a failed preparation or training, or a part that
            dies or hangs (when the plan does not restart parts).
    """
    s = plan.settings
    check_ports(plan, log)
    if plan.nginx:
        check_nginx(write_nginx(s, s.run_dir))
    channels = prepare(plan, log)
    model = train(s.models_dir, force=force_train, log=log)
    if model != plan.model:
        raise RunError(f"the training data changed while starting; run again ({model.name})")
    write_endpoints(plan.endpoints, plan.action_url, child_env(), actions_token=s.actions_token)
    extra = {"listen": s.listen, "staff_listen": s.staff_listen} if plan.nginx else {}
    supervisor = Supervisor(s.logs_dir, s.run_dir, restart=plan.restart, log=log, manifest=extra)
    health = None
    if plan.health_port is not None:
        health = HealthServer(Health(s, s.index_dir, supervisor.alive), plan.health_port)
        health.start()
    with stop_on_signals() as stopping:
        try:
            for stage in plan.stages:
                for part in stage:
                    supervisor.start(part)
                supervisor.wait_ready(stage)
            log(banner(plan, channels))
            supervisor.supervise(stopping)
            log("motcua: stopping…")
            return 0
        finally:
            supervisor.stop(grace=15 if plan.nginx else 10)
            if health is not None:
                health.stop()


def _settings() -> LaunchSettings:
    try:
        return LaunchSettings.from_env()
    except ValueError as exc:
        raise RunError(str(exc)) from exc


def run(*, force_train: bool = False, log=print) -> int:
    """``motcua run``: the embedded default (a trial: demo dossiers seeded when empty)."""
    settings = _settings()
    plan = run_plan(settings, model_path(settings.models_dir))
    return launch(plan, force_train=force_train, log=log)


def serve(*, force_train: bool = False, demo: bool = False, log=print) -> int:
    """``motcua serve``: production; no demo data unless ``demo``."""
    settings = _settings()
    plan = serve_plan(settings, model_path(settings.models_dir), demo=demo)
    return launch(plan, force_train=force_train, log=log)
