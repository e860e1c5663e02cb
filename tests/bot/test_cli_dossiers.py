"""``motcua dossiers``: seed the demo set, show a public view, list by status."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from desk.codes import EXAMPLE_CODE
from desk.dossiers import OVERDUE
from infra.settings import get_settings


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MOTCUA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_seed_demo_then_again(env, capsys):
    assert main(["dossiers", "seed", "--demo"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["added"] == first["dossiers"] >= 25
    assert main(["dossiers", "seed", "--demo"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 0, "dossiers": first["dossiers"]}


def test_seed_needs_demo(env, capsys):
    assert main(["dossiers", "seed"]) == 1
    assert "--demo" in capsys.readouterr().err


def test_show_json_is_the_public_view_only(env, capsys):
    main(["dossiers", "seed", "--demo"])
    capsys.readouterr()
    assert main(["dossiers", "show", "000.00.20.h26 251103 0042", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["code"] == EXAMPLE_CODE
    assert shown["status"] == OVERDUE
    assert shown["applicant"] == "N*** V*** A***"
    assert "applicant_phone" not in shown and "applicant_name" not in shown
    assert "Nguyễn Văn An" not in json.dumps(shown, ensure_ascii=False)


def test_show_text_in_english(env, capsys):
    main(["dossiers", "seed", "--demo"])
    capsys.readouterr()
    assert main(["dossiers", "show", "0000020H262511030042", "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "Status: Overdue (Being processed)" in out
    assert "09" not in out.split("Applicant:")[1].splitlines()[0]


def test_show_garbage_and_unknown_codes(env, capsys):
    assert main(["dossiers", "show", "000.00.20.H26-251399-0042"]) == 1
    assert "not a real date" in capsys.readouterr().err
    assert main(["dossiers", "show", "hello"]) == 1
    assert EXAMPLE_CODE in capsys.readouterr().err
    assert main(["dossiers", "show", "000.00.20.H26-251103-0043"]) == 1
    assert "no dossier with code 000.00.20.H26-251103-0043" in capsys.readouterr().err


def test_list_by_status(env, capsys):
    main(["dossiers", "seed", "--demo"])
    capsys.readouterr()
    assert main(["dossiers", "list", "--status", "overdue"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(EXAMPLE_CODE) for line in lines)
    assert all(" overdue " in line for line in lines)
    assert main(["dossiers", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) > len(lines)
    assert main(["dossiers", "list", "--status", "lost"]) == 1
    assert "unknown status" in capsys.readouterr().err


def test_dead_database_is_one_line(env, monkeypatch, capsys):
    monkeypatch.setenv("MOTCUA_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    assert main(["dossiers", "list"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the dossier database" in err and "Traceback" not in err
