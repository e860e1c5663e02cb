from datetime import datetime, timedelta

import pytest

from infra.migrate import MIGRATIONS, current
from staff.accounts import AccountStore, LoginLimiter, csrf_matches, normalise_username
from tests.staff.conftest import PASSWORD


@pytest.fixture
def accounts(staff_settings):
    store = AccountStore(staff_settings.database_url, session_hours=8, idle_minutes=60)
    yield store
    store.dispose()


def test_migrations_create_the_staff_tables(accounts, staff_settings):
    accounts.list_users()
    newest = max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert current(staff_settings.database_url) == newest


def test_passwords_are_argon2_hashed_and_checked(accounts):
    user = accounts.create_user("Lan.Nguyen", PASSWORD, "editor")
    assert user.username == "lan.nguyen" and user.role == "editor"
    stored = accounts._run(
        lambda c: c.exec_driver_sql("select password_hash from staff_users").scalar()
    )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate("LAN.NGUYEN", PASSWORD).username == "lan.nguyen"
    assert accounts.authenticate("lan.nguyen", "wrong password") is None
    assert accounts.authenticate("nobody", PASSWORD) is None


@pytest.mark.parametrize(
    ("name", "password", "role", "problem"),
    [
        ("a", PASSWORD, "viewer", "user name"),
        ("lan nguyen", PASSWORD, "viewer", "user name"),
        ("lan", "short", "viewer", "password"),
        ("lan", PASSWORD, "boss", "role"),
    ],
)
def test_bad_accounts_are_refused(accounts, name, password, role, problem):
    with pytest.raises(ValueError, match=problem):
        accounts.create_user(name, password, role)


def test_a_name_is_taken_once(accounts):
    accounts.create_user("lan", PASSWORD)
    with pytest.raises(ValueError, match="exists"):
        accounts.create_user("lan", PASSWORD)


def test_roles_are_ordered(accounts):
    viewer = accounts.create_user("v1", PASSWORD, "viewer")
    admin = accounts.create_user("a1", PASSWORD, "admin")
    assert viewer.can("viewer") and not viewer.can("editor")
    assert admin.can("editor") and admin.can("admin")


def test_sessions_expire_absolutely_and_when_idle(accounts):
    user = accounts.create_user("lan", PASSWORD)
    start = datetime(2026, 12, 1, 8, 0)
    token, session = accounts.create_session(user, now=start)
    assert accounts.get_session(token, now=start + timedelta(minutes=30)).user.username == "lan"
    assert accounts.get_session(token + "x", now=start) is None
    # used every 50 minutes it lives 8 hours, not longer
    at = start
    for _ in range(9):
        at += timedelta(minutes=50)
        if at < start + timedelta(hours=8):
            assert accounts.get_session(token, now=at) is not None
    assert accounts.get_session(token, now=start + timedelta(hours=8, minutes=1)) is None
    token2, _ = accounts.create_session(user, now=start)
    assert accounts.get_session(token2, now=start + timedelta(minutes=61)) is None


def test_the_database_holds_only_token_hashes(accounts):
    user = accounts.create_user("lan", PASSWORD)
    token, session = accounts.create_session(user)
    ids = accounts._run(
        lambda c: c.exec_driver_sql("select id from staff_sessions").scalars().all()
    )
    assert token not in ids and session.id in ids


def test_deactivating_or_a_new_password_ends_sessions(accounts):
    user = accounts.create_user("lan", PASSWORD)
    token, _ = accounts.create_session(user)
    accounts.update_user("lan", password="another long password")
    assert accounts.get_session(token) is None
    token, _ = accounts.create_session(user)
    accounts.update_user("lan", active=False)
    assert accounts.get_session(token) is None
    assert accounts.authenticate("lan", "another long password") is None


def test_csrf_tokens_compare_exactly():
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd") and not csrf_matches("abc", None)


def test_login_failures_are_limited_per_name_and_address_and_per_address(staff_settings):
    limiter = LoginLimiter(staff_settings.database_url, limit=3, window_s=900)
    assert [limiter.check("lan", "10.0.0.1").allowed for _ in range(4)] == [True] * 3 + [False]
    assert limiter.check("other", "10.0.0.1").allowed
    for n in range(20):  # one client trying many names hits the per-client limit (5 × 3)
        limiter.check(f"name{n}", "10.0.0.9")
    refused = limiter.check("fresh", "10.0.0.9")
    assert not refused.allowed and refused.retry_after_s > 0 and refused.scope == "address"
    limiter.dispose()


def test_nobody_can_lock_a_staff_member_out_from_another_address(staff_settings):
    """Failures from other addresses slow a name down but never refuse its owner."""
    limiter = LoginLimiter(staff_settings.database_url, limit=3, window_s=900, max_delay_s=2.0)
    for n in range(12):  # an attacker on 12 addresses, 3 failures each, against "lan"
        for _ in range(3):
            decision = limiter.check("lan", f"10.6.6.{n}")
            if decision.allowed:
                limiter.failed("lan", f"10.6.6.{n}", decision)
        assert not limiter.check("lan", f"10.6.6.{n}").allowed
    own_desk = limiter.check("lan", "10.0.0.1")
    assert own_desk.allowed and 0 < own_desk.delay_s <= 2.0
    limiter.succeeded("lan", "10.0.0.1", own_desk)
    limiter.dispose()


def test_only_failures_use_up_the_budget(staff_settings):
    limiter = LoginLimiter(staff_settings.database_url, limit=2, window_s=900)
    for n in range(10):  # ten good logins in a row from one desk
        decision = limiter.check("lan", "10.0.0.1", now=1000.0 + n)
        assert decision.allowed and decision.delay_s == 0
        limiter.succeeded("lan", "10.0.0.1", decision)
    limiter.dispose()


@pytest.mark.parametrize(
    "typed",
    ["lan", " lan", "lan ", "\tlan\n", "LAN", "Lan", "lan\u00a0", "\u00a0lan", "\u3000lan",
     "ｌａｎ", "ＬＡＮ", "\u2003LaN\u2002"],
)  # fmt: skip
def test_one_normal_form_for_accounts_logins_and_the_limit(accounts, staff_settings, typed):
    """Padding, case and compatibility forms are the same name for login and for the limit."""
    accounts.create_user("lan", PASSWORD)
    assert normalise_username(typed) == "lan"
    assert accounts.authenticate(typed, PASSWORD).username == "lan"
    limiter = LoginLimiter(staff_settings.database_url, limit=2, window_s=900)
    limiter.check("lan", "10.0.0.1")
    limiter.check("lan", "10.0.0.1")
    assert not limiter.check(typed, "10.0.0.1").allowed
    limiter.dispose()


def test_a_name_is_taken_once_in_any_form(accounts):
    accounts.create_user("lan", PASSWORD)
    for other in ("LAN", " lan\u00a0", "ｌａｎ"):
        with pytest.raises(ValueError, match="exists"):
            accounts.create_user(other, PASSWORD)


def test_the_policy_applies_to_new_and_changed_passwords_not_to_logins(accounts):
    with pytest.raises(ValueError, match="at least 12"):
        accounts.create_user("mai", "12345678", "admin")
    accounts.create_user("lan", PASSWORD)
    with pytest.raises(ValueError, match="common"):
        accounts.update_user("lan", password="Matkhau@2024")
    with pytest.raises(ValueError, match="user name"):
        accounts.update_user("lan", password="lan's own password")
    assert accounts.authenticate("lan", PASSWORD) is not None


def test_the_api_schema_follows_the_policy_length():
    from staff.api import ROUTES
    from staff.passwords import MIN_PASSWORD

    create = next(r for r in ROUTES if r.operation_id == "create_user")
    assert create.body["properties"]["password"]["minLength"] == MIN_PASSWORD == 12
