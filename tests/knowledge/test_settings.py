from pathlib import Path

import pytest

from knowledge.settings import PACKAGED_MODEL, Settings


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
