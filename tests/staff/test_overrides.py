"""Staff edits live in an overrides layer: the bot reads them, a re-import keeps them."""

import pytest

from knowledge.catalogue import CatalogueStore
from knowledge.schema import Procedure
from staff.console import NotFound

PASSPORT = "1.000003"


@pytest.fixture
def store(console, mini_catalogue):
    console.catalogue.upsert(mini_catalogue)
    return console.catalogue


def fee_edit(procedure: Procedure, amount: int) -> list[dict]:
    channels = procedure.to_dict()["channels"]
    channels[0]["fee"] = {"amounts_vnd": [amount], "free": False, "text": f"{amount} đồng"}
    return channels


def reimport(store, mini_catalogue, **changes):
    records = []
    for p in mini_catalogue:
        data = p.to_dict()
        if p.code == PASSPORT:
            data.update(changes)
        records.append(Procedure.from_dict(data))
    return store.upsert(records, replace_source="test")


def test_an_edit_changes_the_effective_record_and_its_hash(console, store, editor):
    before = store.get(PASSPORT)
    console.edit_procedure(
        editor, PASSPORT, {"channels": fee_edit(before, 250000), "name_en": "Passport"}
    )
    after = store.get(PASSPORT)
    assert after.channels[0].fee.amounts_vnd == [250000] and after.name_en == "Passport"
    assert after.content_hash() != before.content_hash()
    assert store.hashes()[PASSPORT] == after.content_hash()  # what LiveSearch compares
    assert store.official(PASSPORT) == before
    assert sorted(store.override(PASSPORT).fields) == ["channels", "name_en"]


def test_a_reimport_keeps_the_edit_and_shows_what_changed_officially(
    console, store, editor, mini_catalogue
):
    official = store.get(PASSPORT)
    console.edit_procedure(editor, PASSPORT, {"channels": fee_edit(official, 250000)})
    report = reimport(store, mini_catalogue)  # the same official data again
    assert PASSPORT not in report.changed and report.unchanged == 6
    assert store.get(PASSPORT).channels[0].fee.amounts_vnd == [250000]
    assert console.procedure(PASSPORT)["official_changed"] is False

    newer = fee_edit(official, 300000)
    newer[0]["fee"]["text"] = "300.000 đồng (official)"
    report = reimport(store, mini_catalogue, channels=newer, result="Hộ chiếu mới")
    assert PASSPORT in report.changed  # result changed, the fee edit stays
    effective = store.get(PASSPORT)
    assert effective.channels[0].fee.amounts_vnd == [250000]
    assert effective.result == "Hộ chiếu mới"
    assert store.official(PASSPORT).channels[0].fee.amounts_vnd == [300000]
    detail = console.procedure(PASSPORT)
    assert detail["official_changed"] is True
    (conflict,) = detail["conflicts"]
    assert conflict["field"] == "channels"
    assert (
        conflict["official_then"][0]["fee"]["amounts_vnd"]
        == official.to_dict()["channels"][0]["fee"]["amounts_vnd"]
    )
    assert conflict["official_now"][0]["fee"]["amounts_vnd"] == [300000]
    assert conflict["staff"][0]["fee"]["amounts_vnd"] == [250000]
    # saving again acknowledges the official change and keeps the staff value
    console.edit_procedure(editor, PASSPORT, {})
    assert console.procedure(PASSPORT)["official_changed"] is False
    assert store.get(PASSPORT).channels[0].fee.amounts_vnd == [250000]


def test_an_edit_equal_to_the_official_value_is_dropped(console, store, editor):
    official = store.get(PASSPORT)
    console.edit_procedure(editor, PASSPORT, {"name_en": official.name_en})
    assert store.override(PASSPORT) is None
    assert store.get(PASSPORT) == official


def test_revert_restores_the_official_record_and_keeps_aliases(console, store, editor):
    official = store.get(PASSPORT)
    console.correct(editor, PASSPORT, question="xin passport cho bé mới sinh được không")
    console.edit_procedure(editor, PASSPORT, {"name_en": "Passport"})
    console.revert_procedure(editor, PASSPORT)
    effective = store.get(PASSPORT)
    assert effective.name_en == official.name_en
    assert effective.keywords[-1] == "xin passport cho bé mới sinh được không"


def test_aliases_survive_a_reimport(console, store, editor, mini_catalogue):
    console.correct(editor, PASSPORT, question="xin passport cho bé mới sinh được không")
    reimport(store, mini_catalogue, keywords=["hộ chiếu", "passport mới"])
    keywords = store.get(PASSPORT).keywords
    assert keywords[:2] == ["hộ chiếu", "passport mới"]
    assert "xin passport cho bé mới sinh được không" in keywords


def test_a_removed_official_record_keeps_its_edit_for_when_it_returns(
    console, store, editor, mini_catalogue
):
    console.edit_procedure(editor, PASSPORT, {"name_en": "Passport"})
    report = store.upsert([p for p in mini_catalogue if p.code != PASSPORT], replace_source="test")
    assert report.removed == [PASSPORT] and store.get(PASSPORT) is None
    store.upsert(mini_catalogue)
    assert store.get(PASSPORT).name_en == "Passport"


def test_bad_values_and_unknown_fields_are_refused(console, store, editor):
    with pytest.raises(ValueError, match="cannot override"):
        console.edit_procedure(editor, PASSPORT, {"code": "9.999999"})
    with pytest.raises(ValueError, match="channel"):
        console.edit_procedure(editor, PASSPORT, {"channels": [{"channel": "pigeon"}]})
    with pytest.raises(NotFound):
        console.edit_procedure(editor, "9.999999", {"name_en": "x"})
    assert store.override(PASSPORT) is None


def test_every_change_is_in_the_audit_log(console, store, editor):
    official = store.get(PASSPORT)
    console.edit_procedure(editor, PASSPORT, {"channels": fee_edit(official, 250000)})
    console.revert_procedure(editor, PASSPORT)
    revert, edit = console.audit.entries(target=f"procedure:{PASSPORT}")[:2]
    assert (edit.actor, edit.action) == ("lan", "procedure.edit")
    assert (
        edit.before["channels"][0]["fee"]["amounts_vnd"]
        == official.to_dict()["channels"][0]["fee"]["amounts_vnd"]
    )
    assert edit.after["channels"][0]["fee"]["amounts_vnd"] == [250000]
    assert revert.action == "procedure.revert" and revert.after == edit.before


def test_a_plain_catalogue_store_gets_the_overrides_tables_from_the_one_history(
    tmp_path, mini_catalogue
):
    store = CatalogueStore(f"sqlite:///{tmp_path / 'plain.db'}")
    assert len(store.upsert(mini_catalogue).added) == 6
    assert store.overrides() == {} and store.official(PASSPORT) == store.get(PASSPORT)
    store.save_override(PASSPORT, fields={"name_en": "Passport (edited)"})
    assert store.get(PASSPORT).name_en == "Passport (edited)"
    assert store.delete(PASSPORT)
    assert store.official(PASSPORT) is None
