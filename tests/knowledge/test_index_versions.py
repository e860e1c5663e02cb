"""Index versions: one builder publishes, every action server loads read-only and follows."""

import json
import os

import numpy as np

from knowledge.catalogue import CatalogueStore
from knowledge.index import CURRENT_FILE, VERSIONS_DIR, IndexVersions
from knowledge.schema import Procedure
from knowledge.service import IndexNotPublished, IndexPublisher, VersionedSearch


def _publisher(settings):
    return IndexPublisher(settings)


def _reader(settings, clock=None):
    from knowledge.embeddings import make_embedder

    versions = IndexVersions(settings.index_dir)
    embedder = make_embedder(settings.embedding_model)
    if clock is None:
        return VersionedSearch(versions, embedder)
    return VersionedSearch(versions, embedder, interval_s=1.0, clock=clock)


def test_first_publish_builds_a_version_and_a_second_is_not_needed(settings):
    publisher = _publisher(settings)
    first = publisher.publish_if_changed()
    assert first.name == "v000001"
    assert (settings.index_dir / CURRENT_FILE).read_text().strip() == "v000001"
    store = CatalogueStore(settings.database_url)
    assert first.fingerprint == store.fingerprint()
    assert len(first.hashes) == store.count() > 0
    assert publisher.publish_if_changed() is None  # nothing changed
    # A fresh builder (e.g. after a restart) sees the current version is up to date.
    assert IndexPublisher(settings).publish_if_changed() is None


def test_a_reader_loads_the_version_read_only(settings):
    IndexPublisher(settings).publish_if_changed()
    before = {p.name: p.stat().st_mtime_ns for p in settings.index_dir.rglob("*")}
    os.chmod(settings.index_dir, 0o555)  # a reader never writes there
    try:
        reader = _reader(settings)
        assert reader.version == "v000001"
        assert reader.search.search("đăng ký khai sinh").top.code == "1.001193"
        assert len(reader.search.dense_index) == len(reader.search)
    finally:
        os.chmod(settings.index_dir, 0o755)
    after = {p.name: p.stat().st_mtime_ns for p in settings.index_dir.rglob("*")}
    assert before == after


def test_vectors_in_a_version_equal_a_fresh_embedding(settings):
    from knowledge.embeddings import make_embedder
    from knowledge.search import text_for

    manifest = IndexPublisher(settings).publish_if_changed()
    versions = IndexVersions(settings.index_dir)
    dense = versions.dense(manifest.name)
    embedder = make_embedder(settings.embedding_model)
    for procedure in versions.records(manifest, ["1.001193", "1.000894"]):
        expected = embedder.encode([text_for(embedder)(procedure)])[0]
        assert np.allclose(dense.vector(procedure.code), expected, atol=1e-6)


def test_an_edit_publishes_a_new_version_that_readers_follow(settings):
    publisher = _publisher(settings)
    publisher.publish_if_changed()
    now = [0.0]
    reader = _reader(settings, clock=lambda: now[0])
    store = CatalogueStore(settings.database_url)
    birth = store.get("1.001193")
    store.upsert([Procedure.from_dict({**birth.to_dict(), "keywords": ["nuôi ong lấy mật"]})])
    store.upsert([Procedure.from_dict({"code": "9.000001", "name": "Cấp phép bay flycam"})])
    store.delete("1.000894")
    second = publisher.publish_if_changed()
    assert second.name == "v000002" and second.fingerprint == store.fingerprint()
    assert reader.search.search("flycam").top is None  # within the interval: old version
    now[0] = 1.5
    assert reader.search.search("flycam").top.code == "9.000001"
    assert reader.version == "v000002"
    assert reader.search.search("nuôi ong lấy mật").top.code == "1.001193"
    assert "1.000894" not in reader.search
    assert "9.000001" in reader.search.dense_index.ids
    assert not reader.refresh()  # nothing newer


def test_only_changed_procedures_are_embedded(settings):
    publisher = _publisher(settings)
    publisher.publish_if_changed()
    calls = []
    encode = publisher.embedder.encode
    publisher.embedder.encode = lambda texts: calls.append(len(texts)) or encode(texts)
    store = CatalogueStore(settings.database_url)
    birth = store.get("1.001193")
    store.upsert([Procedure.from_dict({**birth.to_dict(), "keywords": ["giấy khai sinh"]})])
    publisher.publish_if_changed()
    assert calls == [1]


def test_a_restarted_builder_reuses_the_current_vectors(settings):
    IndexPublisher(settings).publish_if_changed()
    store = CatalogueStore(settings.database_url)
    birth = store.get("1.001193")
    store.upsert([Procedure.from_dict({**birth.to_dict(), "keywords": ["giấy khai sinh"]})])
    publisher = _publisher(settings)
    calls = []
    encode = publisher.embedder.encode
    publisher.embedder.encode = lambda texts: calls.append(len(texts)) or encode(texts)
    assert publisher.publish_if_changed().name == "v000002"
    assert calls == [1]


def test_old_versions_and_their_records_are_pruned(settings):
    publisher = _publisher(settings)
    publisher.versions.keep = 2
    publisher.publish_if_changed()
    store = CatalogueStore(settings.database_url)
    birth = store.get("1.001193")
    for n in range(4):
        store.upsert([Procedure.from_dict({**birth.to_dict(), "keywords": [f"từ {n}"]})])
        publisher.publish_if_changed()
    versions = IndexVersions(settings.index_dir)
    assert versions.names() == ["v000004", "v000005"]
    referenced = set()
    for name in versions.names():
        referenced |= set(versions.manifest(name).hashes.values())
    stored = {p.stem for p in (settings.index_dir / "records").glob("*/*.json")}
    assert stored == referenced


def test_a_broken_or_foreign_version_is_skipped_and_answers_continue(settings):
    publisher = _publisher(settings)
    publisher.publish_if_changed()
    now = [0.0]
    reader = _reader(settings, clock=lambda: now[0])
    broken = settings.index_dir / VERSIONS_DIR / "v000009"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    (settings.index_dir / CURRENT_FILE).write_text("v000009\n")
    now[0] = 2.0
    assert reader.search.search("đăng ký khai sinh").top.code == "1.001193"
    assert reader.version == "v000001"
    # A version embedded with another model is not served either.
    manifest = json.loads(
        (settings.index_dir / VERSIONS_DIR / "v000001" / "manifest.json").read_text()
    )
    manifest["model"] = "other-model#x"
    (broken / "manifest.json").write_text(json.dumps(manifest))
    now[0] = 4.0
    assert reader.search.search("đăng ký khai sinh").top.code == "1.001193"
    assert reader.version == "v000001"


def test_no_version_yet_is_reported(settings):
    try:
        _reader(settings)
    except IndexNotPublished as exc:
        assert "motcua index publish" in str(exc)
    else:
        raise AssertionError("expected IndexNotPublished")


def test_lexical_only_versions(tmp_path):
    from infra.settings import Settings

    settings = Settings.from_env({"MOTCUA_HOME": str(tmp_path), "MOTCUA_EMBEDDING_MODEL": "none"})
    manifest = IndexPublisher(settings).publish_if_changed()
    assert manifest.model is None
    reader = VersionedSearch(IndexVersions(settings.index_dir), None)
    assert reader.search.dense_index is None
    assert reader.search.search("hộ chiếu").hits


def test_runtime_in_readonly_mode_answers_from_the_published_version(settings, monkeypatch):
    from dataclasses import replace

    from actions.runtime import Runtime

    IndexPublisher(settings).publish_if_changed()
    runtime = Runtime(replace(settings, index_readonly=True))
    assert runtime.assistant.search.search("đăng ký khai sinh").top.code == "1.001193"
    status = runtime.status()
    assert status["mode"] == "readonly" and status["index_version"] == "v000001"
    assert status["procedures"] == len(runtime.live.search)
