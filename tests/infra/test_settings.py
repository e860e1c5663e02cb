from pathlib import Path

import pytest

from infra.settings import (
    BY_NAME,
    PACKAGED_MODEL,
    SettingError,
    Settings,
    describe,
    read,
    readme_table,
)


def test_defaults_are_embedded():
    settings = Settings.from_env({})
    assert settings.home == Path("var")
    assert settings.database_url == "sqlite:///var/motcua.db"
    assert settings.embedding_model == PACKAGED_MODEL
    assert settings.index_dir == Path("var/index")
    assert settings.threads == 1


def test_environment_overrides():
    settings = Settings.from_env(
        {
            "MOTCUA_HOME": "/srv/motcua",
            "MOTCUA_DATABASE_URL": "postgresql://db/motcua",
            "MOTCUA_EMBEDDING_MODEL": "/models/vietnamese-sbert",
            "MOTCUA_SEARCH_THREADS": "2",
        }
    )
    assert settings.database_url == "postgresql://db/motcua"
    assert settings.index_dir == Path("/srv/motcua/index")
    assert settings.embedding_model == "/models/vietnamese-sbert"
    assert settings.threads == 2


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_bad_thread_count_is_refused(bad):
    with pytest.raises(ValueError, match="MOTCUA_SEARCH_THREADS"):
        Settings.from_env({"MOTCUA_SEARCH_THREADS": bad})


# --- the registry -----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_readme_table_is_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table() in readme, "README's settings table differs from infra/settings.py"


def test_every_variable_the_code_reads_is_registered():
    import re

    used: set[str] = set()
    for folder in ("actions", "bot", "connectors", "desk", "infra", "knowledge", "nlu", "staff"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"\bMOTCUA_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
    assert used, "the scan found nothing: the pattern is wrong"
    assert used - set(BY_NAME) == set()


def test_a_malformed_value_names_the_variable_and_the_rule():
    with pytest.raises(SettingError, match=r"MOTCUA_STAFF_PORT must be a port number"):
        read({"MOTCUA_STAFF_PORT": "70000"})
    with pytest.raises(SettingError, match=r"MOTCUA_LOCK_STORE_URL must be a redis:// URL"):
        read({"MOTCUA_LOCK_STORE_URL": "http://cache"})
    with pytest.raises(SettingError, match=r"MOTCUA_RESTART must be 1 or 0"):
        read({"MOTCUA_RESTART": "maybe"})
    with pytest.raises(SettingError, match="MOTCUA_WIDGET_ORIGINS"):
        read({"MOTCUA_WIDGET_ORIGINS": "https://ok.example, javascript:alert(1)"})


def test_defaults_derive_from_settings_read_before_them():
    values = read({"MOTCUA_HOME": "/srv/m"})
    assert values["MOTCUA_DATABASE_URL"] == "sqlite:////srv/m/motcua.db"
    assert values["MOTCUA_INDEX_DIR"] == Path("/srv/m/index")
    assert values["MOTCUA_LISTEN"] == ("0.0.0.0", 8080)
    assert values["MOTCUA_STAFF_LISTEN"] == ("127.0.0.1", 8081)


def test_describe_masks_secrets_and_passwords():
    rows = {
        r["name"]: r
        for r in describe(
            {
                "MOTCUA_DATABASE_URL": "postgresql://motcua:s3cret@db/motcua",
                "MOTCUA_TELEGRAM_TOKEN": "123:ABC",
                "MOTCUA_STAFF_PORT": "6000",
            }
        )
    }
    assert rows["MOTCUA_DATABASE_URL"]["value"] == "postgresql://motcua:***@db/motcua"
    assert rows["MOTCUA_TELEGRAM_TOKEN"]["value"] == "***"
    assert rows["MOTCUA_STAFF_PORT"] == {**rows["MOTCUA_STAFF_PORT"], "value": "6000"}
    assert rows["MOTCUA_STAFF_PORT"]["from"] == "environment"
    assert rows["MOTCUA_RASA_PORT"]["from"] == "default"
    assert "s3cret" not in str(rows) and "ABC" not in str(rows)
