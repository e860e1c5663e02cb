"""The staff migrations and the overrides layer on PostgreSQL (the production database)."""

from infra.migrate import current
from staff.console import Console
from staff.settings import StaffSettings
from tests.staff.conftest import PASSWORD


def test_migrations_accounts_and_overrides_on_postgresql(pg_url, mini_catalogue):
    console = Console(StaffSettings(database_url=pg_url))
    console.prepare()
    assert current(pg_url) == "0004"
    editor = console.create_user("cli", "lan", PASSWORD, "editor")
    token, _ = console.accounts.create_session(editor)
    assert console.accounts.get_session(token).user.username == "lan"
    console.catalogue.upsert(mini_catalogue)
    console.edit_procedure(editor, "1.000003", {"name_en": "Passport (staff)"})
    console.correct(editor, "1.000003", question="xin passport cho bé mới sinh được không")
    console.catalogue.upsert(mini_catalogue, replace_source="test")
    effective = console.catalogue.get("1.000003")
    assert effective.name_en == "Passport (staff)"
    assert "xin passport cho bé mới sinh được không" in effective.keywords
    assert [e.action for e in console.audit.entries()][:2] == [
        "correction.create",
        "procedure.edit",
    ]
    console.close()
