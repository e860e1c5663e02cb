"""What the console does, for its pages, its JSON API and the staff CLI alike.

:class:`Console` ties together the stores the console reads and writes: accounts and
sessions, the audit log, review decisions and corrections, the catalogue (with its
overrides layer), the conversation log and the hand-offs. Every change it makes is
written to the audit log with the actor, the value before and the value after; so are
failed logins, lockouts and refused hand-off changes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from desk.handoffs import CLAIMED, DONE, HandoffStore
from desk.lookups import RefusalLog
from infra.db import Database
from knowledge.builtin import provenance
from knowledge.catalogue import CatalogueStore
from knowledge.overrides import EDITABLE_FIELDS, conflicts
from knowledge.schema import InvalidRecord
from staff.accounts import (
    USERNAME,
    AccountStore,
    LoginDecision,
    LoginLimiter,
    User,
    normalise_username,
)
from staff.audit import AuditLog
from staff.review import ASK_INTENTS, ReviewStore, export_nlu, export_retrieval
from staff.settings import StaffSettings

logger = logging.getLogger(__name__)

QUEUE_SCAN_LIMIT = 5000
"""How many reviewable turns the queue looks through to fill a page of open ones."""


class NotFound(LookupError):
    """The thing asked for does not exist (the API answers 404)."""


class Conflict(ValueError):
    """The change conflicts with the current state (the API answers 409)."""


class Forbidden(PermissionError):
    """This user may not make this change (the API answers 403 with the reason)."""


def audit_name(username: str) -> str:
    """The attempted user name as the audit log shows it: normalised, or a placeholder.

    A "name" that cannot be an account is often a password typed in the wrong box, so it
    is not written down.
    """
    name = normalise_username(username)
    return name if USERNAME.fullmatch(name) else "(not a user name)"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class QueueFilter:
    """Filters of the review queue.

    Attributes:
        channel: Only this channel.
        since: Only turns asked at or after (naive UTC).
        until: Only turns asked before.
        procedure: Only turns about this procedure code.
        status: ``open`` (default), ``all``, or a resolution status.
        reason: Only turns with this review reason.
    """

    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    procedure: str | None = None
    status: str = "open"
    reason: str | None = None


class Console:
    """The staff console's operations over the shared database.

    Args:
        settings: Staff settings (database URL, session lifetimes, login limits).
    """

    def __init__(self, settings: StaffSettings) -> None:
        self.settings = settings
        db = Database(settings.database_url)
        self.db = db
        self.accounts = AccountStore(db, settings.session_hours, settings.idle_minutes)
        self.limiter = LoginLimiter(db, settings.login_limit, settings.login_window_s)
        self.audit = AuditLog(db)
        self.reviews = ReviewStore(db)
        self.catalogue = CatalogueStore(db)
        self.handoffs = HandoffStore(db)
        self.refusals = RefusalLog(db)
        self._live_lock = threading.Lock()
        self._live_search = None

    @cached_property
    def conversations(self):
        """The conversation log (:class:`desk.conversations.ConversationLog`)."""
        from desk.conversations import ConversationLog

        return ConversationLog(self.db)

    @property
    def _live(self):
        """The search box's lexical search, kept in step with the database (built once)."""
        with self._live_lock:
            if self._live_search is None:
                from knowledge.search import ProcedureSearch
                from knowledge.service import LiveSearch, OpenedSearch

                self.catalogue.ensure_seeded()
                search = ProcedureSearch(self.catalogue.all(), None)
                self._live_search = LiveSearch(OpenedSearch(search, self.catalogue, None))
            return self._live_search

    def warm_up(self) -> None:
        """Builds the search box's index (a few seconds for the national catalogue)."""
        try:
            self.search("đăng ký khai sinh")
        except Exception:  # a cold search later is slower, never wrong
            logger.exception("warming up the procedure search failed")

    def prepare(self) -> None:
        """Migrates the database and seeds an empty catalogue (run at start)."""
        self.db.ensure_schema()
        self.catalogue.ensure_seeded()

    def close(self) -> None:
        """Closes the connection pool."""
        self.db.dispose()

    # ------------------------------------------------------------------ logins

    def login_gate(self, username: str, client: str) -> LoginDecision:
        """Records a login attempt of ``username`` from ``client`` and judges it.

        A refusal is logged; the lockout itself was audited by the failure that caused it.
        """
        decision = self.limiter.check(username, client)
        if not decision.allowed:
            logger.warning(
                "login refused (%s limit): %r from %s", decision.scope, audit_name(username), client
            )
        return decision

    def finish_login(
        self, username: str, password: str, client: str, decision: LoginDecision
    ) -> User | None:
        """Checks the password of an attempt the gate let through; audits a failure.

        A failure is audited as ``login.failed`` (actor: the normalised attempted name,
        target: the client address; never the password), and the failure that uses up a
        limit also as ``login.lockout``.
        """
        user = self.accounts.authenticate(username, password)
        if user is not None:
            self.limiter.succeeded(username, client, decision)
            return user
        self.limiter.failed(username, client, decision)
        actor, target = audit_name(username), f"address:{client}"[:128]
        details = {"address": client, "failures_left": decision.remaining}
        self.audit.record(actor, "login.failed", target, None, details)
        if decision.remaining == 0:
            window = self.settings.login_window_s
            lockout = {"address": client, "scope": decision.scope, "for_seconds": window}
            self.audit.record(actor, "login.lockout", target, None, lockout)
        return None

    # ------------------------------------------------------------------ review queue

    def queue(self, filters: QueueFilter, *, limit: int = 50, offset: int = 0) -> list[dict]:
        """Returns reviewable turns (newest first) with their resolution, filtered."""
        wanted, found, scanned, page = offset + limit, [], 0, 200
        while len(found) < wanted and scanned < QUEUE_SCAN_LIMIT:
            turns = self.conversations.turns(
                since=filters.since,
                until=filters.until,
                channel=filters.channel or None,
                procedure_code=filters.procedure or None,
                needs_review=True,
                limit=page,
                offset=scanned,
            )
            scanned += page
            resolved = self.reviews.resolutions([t.id for t in turns])
            for turn in turns:
                resolution = resolved.get(turn.id)
                status = resolution.status if resolution else "open"
                if filters.status not in ("all", status):
                    continue
                if filters.reason and filters.reason not in turn.review_reasons:
                    continue
                found.append({**turn.to_dict(), "status": status, "resolution": _dict(resolution)})
            if len(turns) < page:
                break
        return found[offset:wanted]

    def turn(self, turn_id: int) -> dict:
        """Returns one turn with its resolution, its conversation and its corrections.

        Raises:
            NotFound: When there is no such turn.
        """
        turn = self.conversations.get(turn_id)
        if turn is None:
            raise NotFound(f"no turn {turn_id}")
        resolution = self.reviews.resolution(turn_id)
        transcript = self.conversations.transcript(turn.sender_id)
        corrections = [c.to_dict() for c in self.reviews.corrections() if c.turn_id == turn_id]
        return {
            "turn": turn.to_dict(),
            "status": resolution.status if resolution else "open",
            "resolution": _dict(resolution),
            "transcript": [t.to_dict() for t in transcript],
            "corrections": corrections,
        }

    def resolve(self, user: User, turn_id: int, status: str, note: str = "") -> dict:
        """Marks a reviewed turn ``ok`` or ``dismissed`` (or ``corrected``)."""
        if self.conversations.get(turn_id) is None:
            raise NotFound(f"no turn {turn_id}")
        before = self.reviews.resolution(turn_id)
        after = self.reviews.resolve(turn_id, status, actor=user.username, note=note)
        self.audit.record(
            user.username, "review.resolve", f"turn:{turn_id}", _dict(before), after.to_dict()
        )
        return after.to_dict()

    def correct(
        self,
        user: User,
        code: str,
        *,
        turn_id: int | None = None,
        question: str | None = None,
        intent: str | None = None,
    ) -> dict:
        """Records that a question meant procedure ``code`` and teaches search the question.

        The question (the reviewed turn's text, or ``question``) becomes an alias of the
        procedure (kept across re-imports); the action server re-indexes it within 2 s.

        Raises:
            NotFound: For an unknown turn or procedure.
            ValueError: When there is no question text or the intent is unknown.
        """
        turn = None
        if turn_id is not None:
            turn = self.conversations.get(turn_id)
            if turn is None:
                raise NotFound(f"no turn {turn_id}")
        text = " ".join((question or (turn.text if turn else "")).split())
        if not text:
            raise ValueError("a correction needs the question's text")
        if len(text) > 500:
            raise ValueError("a question has at most 500 characters")
        if intent is None and turn is not None and turn.intent in ASK_INTENTS:
            intent = turn.intent
        if intent is not None and intent not in ASK_INTENTS:
            raise ValueError(f"unknown intent {intent!r}; use one of {', '.join(ASK_INTENTS)}")
        if self.catalogue.get(code) is None:
            raise NotFound(f"no procedure {code}")
        self.prepare_tables()
        before = self.catalogue.override(code)
        self.catalogue.add_alias(code, text, by=user.username)
        after = self.catalogue.override(code)
        previous = None
        if turn is not None:
            previous = turn.procedure_code or (turn.candidates[0] if turn.candidates else None)
        from knowledge.query import detect_language

        language = (turn.language if turn and turn.language else None) or detect_language(text)
        correction = self.reviews.add_correction(
            actor=user.username,
            question=text,
            code=code,
            turn_id=turn_id,
            previous_code=previous,
            intent=intent,
            language=language,
        )
        self.audit.record(
            user.username,
            "correction.create",
            f"procedure:{code}",
            {"aliases": before.aliases if before else [], "answered": previous},
            {"aliases": after.aliases if after else [], **correction.to_dict()},
        )
        return correction.to_dict()

    def corrections(self, *, limit: int = 100, offset: int = 0) -> list[dict]:
        """Returns corrections, newest first."""
        items = self.reviews.corrections()
        items.reverse()
        return [c.to_dict() for c in items[offset : offset + limit]]

    def export_training(self, fmt: str) -> str:
        """Returns the corrections as ``retrieval`` JSON lines or ``nlu`` YAML."""
        corrections = self.reviews.corrections()
        if fmt == "retrieval":
            return export_retrieval(corrections)
        if fmt == "nlu":
            return export_nlu(corrections)
        raise ValueError("format is retrieval or nlu")

    # ------------------------------------------------------------------ procedures

    def search(self, text: str, limit: int = 10) -> list[dict]:
        """Finds procedures for the search box (lexical search over the effective records)."""
        text = (text or "").strip()
        if not text:
            return []
        live = self._live
        code = text.upper() if text[:1].isdigit() else None
        hits = []
        if code and live.search.get(text):
            p = live.search.get(text)
            hits.append({"code": p.code, "name": p.name, "name_en": p.name_en, "score": 1.0})
        result = live.search.search(text[:300], max(1, min(limit, 50)))
        for hit in result.hits:
            if all(h["code"] != hit.code for h in hits):
                hits.append(
                    {
                        "code": hit.code,
                        "name": hit.name,
                        "name_en": hit.name_en,
                        "score": round(float(hit.score), 4),
                    }
                )
        return hits[:limit]

    def procedure(self, code: str) -> dict:
        """Returns a procedure as citizens see it, its official record and the staff edits.

        ``provenance`` says, value by value, whether citizens see the official record,
        the built-in catalogue's entry (with its source) or a staff edit.
        ``official_changed`` is true when the official record is no longer the one the
        edit was made against; ``conflicts`` lists the edited fields whose official value
        changed since (official then, official now, staff value).

        Raises:
            NotFound: When there is no such procedure.
        """
        effective = self.catalogue.get(code)
        if effective is None:
            raise NotFound(f"no procedure {code}")
        official = self.catalogue.official(code) or effective
        override = self.catalogue.override(code)
        # aliases follow any official record; only edited fields can go stale
        changed = bool(
            override and override.fields and override.base_hash != official.content_hash()
        )
        return {
            "code": code,
            "effective": effective.to_dict(),
            "official": official.to_dict(),
            "override": override.to_dict() if override else None,
            "official_changed": changed,
            "conflicts": conflicts(official, override) if override else [],
            "editable_fields": list(EDITABLE_FIELDS),
            "provenance": provenance(code, override.fields if override else ()),
        }

    def edit_procedure(self, user: User, code: str, fields: dict[str, Any]) -> dict:
        """Sets the staff's values of some fields (``None`` removes a field's edit).

        Other edited fields are kept. The effective record is written at once; the action
        server answers with it within 2 s.

        Raises:
            NotFound: When there is no such procedure.
            ValueError: For a field that cannot be edited or a value that does not validate.
        """
        self.prepare_tables()
        current = self.catalogue.override(code)
        merged = dict(current.fields if current else {})
        for name, value in fields.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return self._save(user, code, merged, "procedure.edit")

    def revert_procedure(self, user: User, code: str) -> dict:
        """Removes every field edit of ``code`` (aliases from corrections stay)."""
        self.prepare_tables()
        return self._save(user, code, {}, "procedure.revert")

    def _save(self, user: User, code: str, fields: dict[str, Any], action: str) -> dict:
        before_effective = self.catalogue.get(code)
        if before_effective is None:
            raise NotFound(f"no procedure {code}")
        try:
            before, after, effective = self.catalogue.save_override(
                code, fields=fields, by=user.username
            )
        except InvalidRecord as exc:
            raise ValueError(exc.reason) from exc
        except KeyError as exc:
            raise NotFound(f"no procedure {code}") from exc
        old, new = before_effective.to_dict(), effective.to_dict()
        changed = sorted(k for k in EDITABLE_FIELDS if old.get(k) != new.get(k))
        self.audit.record(
            user.username,
            action,
            f"procedure:{code}",
            {k: old.get(k) for k in changed},
            {k: new.get(k) for k in changed},
        )
        return self.procedure(code)

    def prepare_tables(self) -> None:
        """Makes sure the overrides tables exist (the migrations ran)."""
        self.db.ensure_schema()

    # ------------------------------------------------------------------ hand-offs

    def handoff_list(self, status: str | None = None, limit: int = 200) -> list[dict]:
        """Returns hand-offs (oldest first), of ``status`` when given."""
        return [h.to_dict() for h in self.handoffs.list(status or None, limit=limit)]

    def handoff(self, handoff_id: int) -> dict:
        """Returns one hand-off with the citizen's conversation.

        Raises:
            NotFound: When there is no such hand-off.
        """
        handoff = self.handoffs.get(handoff_id)
        if handoff is None:
            raise NotFound(f"no hand-off {handoff_id}")
        transcript = self.conversations.transcript(handoff.sender)
        return {"handoff": handoff.to_dict(), "transcript": [t.to_dict() for t in transcript]}

    def set_handoff(self, user: User, handoff_id: int, status: str) -> dict:
        """Claims a hand-off (``claimed``) or marks it ``done``.

        Only whoever claimed a hand-off, or an admin, may mark it done; a refusal is
        audited as ``handoff.denied``.

        Raises:
            NotFound: When there is none.
            Conflict: When someone else claimed it, or it is done already.
            Forbidden: When someone else claimed it and ``user`` is not an admin.
        """
        current = self.handoffs.get(handoff_id)
        if current is None:
            raise NotFound(f"no hand-off {handoff_id}")
        if status not in (CLAIMED, DONE):
            raise ValueError("status is claimed or done")
        if current.status == DONE:
            raise Conflict("this hand-off is done already")
        if status == CLAIMED and current.status == CLAIMED and current.claimed_by != user.username:
            raise Conflict(f"claimed by {current.claimed_by} already")
        others = current.status == CLAIMED and current.claimed_by not in (None, user.username)
        if status == DONE and others and not user.can("admin"):
            self.audit.record(
                user.username,
                "handoff.denied",
                f"handoff:{handoff_id}",
                {"status": current.status, "claimed_by": current.claimed_by},
                {"tried": status},
            )
            raise Forbidden(
                f"claimed by {current.claimed_by}: only they or an admin can mark it done"
            )
        claimed_by = user.username if status == CLAIMED or not current.claimed_by else None
        updated = self.handoffs.set_status(handoff_id, status, claimed_by=claimed_by)
        self.audit.record(
            user.username,
            f"handoff.{'claim' if status == CLAIMED else 'done'}",
            f"handoff:{handoff_id}",
            {"status": current.status, "claimed_by": current.claimed_by},
            {"status": updated.status, "claimed_by": updated.claimed_by},
        )
        return updated.to_dict()

    # ------------------------------------------------------------------ dashboard

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> dict:
        """Returns the dashboard's figures (default: the last 30 days)."""
        until = until or _utcnow() + timedelta(seconds=1)
        since = since or until - timedelta(days=30)
        data = self.conversations.stats(since=since, until=until)
        data["since"] = since.isoformat(timespec="seconds")
        data["until"] = until.isoformat(timespec="seconds")
        data["open_reviews"] = len(self.queue(QueueFilter(since=since, until=until), limit=1000))
        data["open_handoffs"] = self.handoffs.count("open")
        refused = self.refusals.count(since, until)
        data["refused_lookups"] = sum(refused.values())
        data["refused_lookups_by_scope"] = refused
        data["recent_refusals"] = self.refusals.recent(since, until, limit=10)
        return data

    # ------------------------------------------------------------------ accounts

    def create_user(self, actor: str, username: str, password: str, role: str) -> User:
        """Creates an account (audited; the password never is)."""
        user = self.accounts.create_user(username, password, role)
        self.audit.record(actor, "user.create", f"user:{user.username}", None, user.to_dict())
        return user

    def update_user(
        self,
        actor: User | str,
        username: str,
        *,
        role: str | None = None,
        active: bool | None = None,
        password: str | None = None,
        keep_session: str | None = None,
    ) -> User:
        """Changes an account (audited).

        A new password or deactivation ends the account's sessions, except
        ``keep_session`` (the session of admins changing their own password).

        Raises:
            NotFound: When there is no such account.
            Conflict: When admins would lock themselves out.
        """
        name = actor.username if isinstance(actor, User) else actor
        before = self.accounts.get_user(username)
        if before is None:
            raise NotFound(f"no user {username}")
        if before.username == name and (active is False or (role and role != "admin")):
            raise Conflict("you cannot demote or deactivate yourself")
        after = self.accounts.update_user(
            username, role=role, active=active, password=password, keep_session=keep_session
        )
        change = before.to_dict(), after.to_dict()
        if password is not None:
            change[1]["password"] = "changed"
        self.audit.record(name, "user.update", f"user:{after.username}", *change)
        return after


def _dict(item: Any) -> dict | None:
    return item.to_dict() if item is not None else None
