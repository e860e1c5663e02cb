import pytest

from knowledge.catalogue import (
    CatalogueStore,
    CatalogueUnavailable,
    enrich,
    load_sample_catalogue,
    parse_catalogue_json,
)
from knowledge.schema import Procedure


@pytest.fixture
def store(tmp_path):
    s = CatalogueStore(f"sqlite:///{tmp_path / 'db' / 'motcua.db'}")
    yield s
    s.dispose()


def test_empty_database_starts_from_the_bundled_sample(store):
    sample = load_sample_catalogue()
    assert 40 <= len(sample) <= 60
    assert all(p.name_en and p.keywords for p in sample)
    assert store.ensure_seeded() == len(sample)
    assert store.count() == len(sample)
    assert store.ensure_seeded() == 0


def test_upsert_reports_added_changed_unchanged_and_replace(store, mini_catalogue):
    report = store.upsert(mini_catalogue)
    assert len(report.added) == 6 and report.unchanged == 0
    edited = Procedure.from_dict({**mini_catalogue[1].to_dict(), "name_en": "Marriage"})
    before = store.fingerprint()
    report = store.upsert([edited, *mini_catalogue[2:]])
    assert report.changed == [edited.code]
    assert report.unchanged == 4
    assert store.fingerprint() != before
    assert store.get(edited.code).name_en == "Marriage"
    report = store.upsert(mini_catalogue[:2], replace_source="test")
    assert sorted(report.removed) == sorted(p.code for p in mini_catalogue[2:])
    assert store.count() == 2


def test_get_all_delete(store, mini_catalogue):
    store.upsert(mini_catalogue)
    assert store.get("1.000003") == mini_catalogue[2]
    assert store.get("9.999999") is None
    assert [p.code for p in store.all()] == sorted(p.code for p in mini_catalogue)
    assert store.delete("1.000003") is True
    assert store.delete("1.000003") is False


def test_dead_database_gives_one_clear_error():
    store = CatalogueStore("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(CatalogueUnavailable, match="cannot open the catalogue database"):
        store.count()


def test_parse_reports_bad_records_and_keeps_the_rest():
    procedures, errors = parse_catalogue_json(
        {"procedures": [{"code": "1.000001", "name": "A"}, {"code": "x y"}, {"name": "no code"}]}
    )
    assert [p.code for p in procedures] == ["1.000001"]
    assert [e[0] for e in errors] == ["x y", "#2"]


def test_enrich_adds_curated_english_without_overwriting():
    official = Procedure.from_dict({"code": "1.000001", "name": "A", "keywords": ["x"]})
    curated = Procedure.from_dict(
        {"code": "1.000001", "name": "A", "name_en": "Birth", "keywords": ["X", "birth"]}
    )
    merged = enrich(official, curated)
    assert merged.name_en == "Birth"
    assert merged.keywords == ["x", "birth"]
    assert enrich(official, None) is official
