"""``motcua staff ...`` in a subprocess, as an administrator would type it."""

import json
import os
import subprocess
import sys

from tests.bot.test_e2e import ROOT


def motcua(home, *args, stdin=""):
    env = {k: v for k, v in os.environ.items() if k != "MOTCUA_DATABASE_URL"}
    env["MOTCUA_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", *args],
        input=stdin, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_accounts_and_export_from_the_command_line(tmp_path):
    made = motcua(tmp_path, "create-user", "Mai", "--role", "admin", "--password-stdin",
                  stdin="a long password\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["username"] == "mai"
    short = motcua(tmp_path, "create-user", "lan", "--password-stdin", stdin="short\n")
    assert (
        short.returncode == 1 and "at least 12" in short.stderr and "Traceback" not in short.stderr
    )
    for weak in ("Matkhau@2024", "mai2 is the admin"):
        refused = motcua(tmp_path, "create-user", "mai2", "--role", "admin", "--password-stdin",
                         stdin=weak + "\n")  # fmt: skip
        assert refused.returncode == 1 and "password" in refused.stderr, weak
        assert "Traceback" not in refused.stderr
    listed = motcua(tmp_path, "list-users", "--json")
    assert [u["role"] for u in json.loads(listed.stdout)] == ["admin"]
    assert motcua(tmp_path, "set-role", "mai", "editor").returncode == 0
    out = tmp_path / "q.jsonl"
    exported = motcua(tmp_path, "export-training", "--format", "retrieval", "--out", str(out))
    assert exported.returncode == 0 and out.read_text() == ""
    nlu = motcua(tmp_path, "export-training", "--format", "nlu")
    assert "version: '3.1'" in nlu.stdout and "nlu: []" in nlu.stdout
