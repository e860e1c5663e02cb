import json

from knowledge.catalogue import CatalogueStore
from knowledge.index import META_FILE, DenseIndex
from knowledge.schema import Procedure
from knowledge.service import open_search


def test_first_open_seeds_and_builds_then_reuses_the_saved_index(settings):
    first = open_search(settings)
    assert len(first.search) == first.store.count() > 0
    assert first.sync.rebuilt and len(first.sync.embedded) == len(first.search)
    assert (settings.index_dir / META_FILE).exists()
    again = open_search(settings)
    assert not again.sync.changed
    assert again.search.search("đăng ký khai sinh").top.code == "1.001193"


def test_an_edit_in_the_database_reembeds_only_that_procedure(settings):
    opened = open_search(settings)
    store = CatalogueStore(settings.database_url)
    birth = store.get("1.001193")
    store.upsert([Procedure.from_dict({**birth.to_dict(), "keywords": ["giấy khai sinh"]})])
    reopened = open_search(settings, store)
    assert reopened.sync.embedded == ["1.001193"]
    saved = DenseIndex.load(settings.index_dir)
    assert saved.version == opened.search.dense_index.version + 1


def test_index_of_another_model_or_a_corrupt_one_is_rebuilt(settings):
    open_search(settings)
    meta_path = settings.index_dir / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["model"] = "some-other-model#d1"
    meta_path.write_text(json.dumps(meta))
    assert open_search(settings).sync.rebuilt
    (settings.index_dir / "procedures.faiss").write_bytes(b"\x00broken")
    reopened = open_search(settings)
    assert reopened.sync.rebuilt
    assert len(reopened.search.dense_index) == len(reopened.search)


def test_lexical_only_setting_needs_no_index(tmp_path):
    from infra.settings import Settings

    settings = Settings.from_env({"MOTCUA_HOME": str(tmp_path), "MOTCUA_EMBEDDING_MODEL": "none"})
    opened = open_search(settings)
    assert opened.sync is None and opened.search.dense_index is None
    assert opened.search.search("hộ chiếu").hits
    assert not settings.index_dir.exists()


def test_live_search_follows_the_database_without_a_restart(settings):
    from knowledge.service import LiveSearch

    now = [0.0]
    live = LiveSearch(open_search(settings), interval_s=2.0, clock=lambda: now[0])
    store = CatalogueStore(settings.database_url)
    assert live.search.search("nuôi ong lấy mật").top is None or not (
        live.search.search("nuôi ong lấy mật").confident
    )
    birth = store.get("1.001193")
    store.upsert([Procedure.from_dict({**birth.to_dict(), "keywords": ["nuôi ong lấy mật"]})])
    store.upsert([Procedure.from_dict({"code": "9.000001", "name": "Cấp phép bay flycam"})])
    store.delete("1.000894")
    assert live.search.search("flycam").top is None  # not checked yet: within the interval
    now[0] = 2.5
    assert live.search.search("nuôi ong lấy mật").top.code == "1.001193"
    assert live.search.search("flycam").top.code == "9.000001"
    assert "1.000894" not in live.search
    assert "9.000001" in live.search.dense_index.ids
    assert live.refresh().changed == []  # nothing new since


def test_live_search_answers_from_memory_when_the_database_dies(settings):
    from knowledge.service import LiveSearch

    now = [0.0]
    live = LiveSearch(open_search(settings), interval_s=1.0, clock=lambda: now[0])
    live.store = CatalogueStore("postgresql://nobody@127.0.0.1:1/none")
    now[0] = 5.0
    assert live.search.search("đăng ký khai sinh").top.code == "1.001193"
