import pytest

from knowledge.builtin import english_names, load_builtin_catalogue
from knowledge.catalogue import (
    CatalogueStore,
    CatalogueUnavailable,
    layer_builtin,
    parse_catalogue_json,
)
from knowledge.schema import Procedure


@pytest.fixture
def store(tmp_path):
    s = CatalogueStore(f"sqlite:///{tmp_path / 'db' / 'motcua.db'}")
    yield s
    s.dispose()


def test_empty_database_starts_from_the_builtin_catalogue(store):
    builtin = load_builtin_catalogue()
    assert len(builtin) >= 400
    assert all(p.name_en and p.keywords and p.source == "builtin" for p in builtin)
    assert store.ensure_seeded() == len(builtin)
    assert store.count() == len(builtin)
    assert store.ensure_seeded() == 0
    stats = store.stats()
    assert stats["procedures"] == stats["curated"] == stats["english_names"] == len(builtin)
    assert stats["fee_amount_known_share"] >= 0.85  # see test_builtin
    assert stats["fingerprint"] == store.fingerprint()


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


def test_the_builtin_layer_sits_on_top_of_the_official_record():
    official = Procedure.from_dict(
        {
            "code": "1.000001",
            "name": "A",
            "keywords": ["x"],
            "result": "official result",
            "conditions": "official conditions",
            "source": "portal",
        }
    )
    builtin = Procedure.from_dict(
        {
            "code": "1.000001",
            "name": "A",
            "name_en": "Birth",
            "keywords": ["X", "birth"],
            "result": "our result",
        }
    )
    merged = layer_builtin(official, builtin)
    assert merged.name_en == "Birth" and merged.source == "builtin"
    assert merged.result == "our result"  # the built-in value wins
    assert merged.conditions == "official conditions"  # what it leaves empty stays official
    assert merged.keywords == ["X", "birth"]  # "x" is the same keyword
    assert layer_builtin(official, None) is official


def test_our_english_names_cover_what_the_builtin_catalogue_does_not():
    from knowledge.answers import title
    from knowledge.search import dense_text

    names = english_names()
    builtin = {p.code: p for p in load_builtin_catalogue()}
    assert len(names) > 2000 and not set(names) & {c for c, p in builtin.items() if p.name_en}
    plain = next(code for code in names if code not in builtin)
    record = Procedure.from_dict({"code": plain, "name": "Tên chính thức", "source": "portal"})
    assert dense_text(record) == names[plain]  # what an English-only model embeds
    assert title(record, "en").startswith(f"{names[plain]} (unofficial translation) — Tên")
    assert title(record, "vi") == f"Tên chính thức (mã {plain})"
    named = Procedure.from_dict({"code": plain, "name": "A", "name_en": "Staff's name"})
    assert dense_text(named) == "Staff's name"  # an English name on the record wins
