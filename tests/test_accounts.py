"""Moderator accounts: hashing, logins, and the limits on failed logins."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import event

from comments.extensions import db
from comments.models import Moderator, Role
from comments.services.accounts import (authenticate, create_api_token, create_moderator,
                                          moderator_for_token, set_password, update_moderator)

from .conftest import make_app
from .modhelpers import PASSWORD, csrf_token, login, setup_sites

NEW_PASSWORD = "a brand new passphrase"


def test_passwords_are_stored_as_argon2_hashes(app: Flask) -> None:
    setup_sites(app)
    with app.app_context():
        stored = db.session.scalar(db.select(Moderator.password_hash).filter_by(email="admin@example.org"))
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert authenticate("ADMIN@example.org ", PASSWORD) is not None
        assert authenticate("admin@example.org", PASSWORD + "x") is None
        assert authenticate("nobody@example.org", PASSWORD) is None


def test_a_wrong_password_gets_one_message_for_both_cases(app: Flask) -> None:
    setup_sites(app)
    client = app.test_client()
    for email in ("admin@example.org", "nobody@example.org"):
        res = client.post("/mod/login", data={"email": email, "password": "wrong password",
                                              "csrf_token": csrf_token(client)})
        assert res.status_code == 401
        assert "Wrong email or password." in res.get_data(as_text=True)


@pytest.fixture
def limited_app(tmp_path: Path, _postgres_schema: None) -> Iterator[Callable[..., tuple[Flask, str]]]:
    """Makes an app with rate limits on and the given settings, and an admin of a unique email
    (the limiter keeps the first key prefix of the process, so counts in Redis are kept apart by
    the names they count); the engine and that account's counts go when the test ends."""
    made: list[tuple[Flask, str]] = []

    def make(**settings: str) -> tuple[Flask, str]:
        tag = uuid.uuid4().hex[:12]
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_KEY_PREFIX=f"accounts-{tag}",
                       **settings)
        setup_sites(app)
        with app.app_context():
            create_moderator(f"owner-{tag}@example.org", PASSWORD, "admin")
        made.append((app, tag))
        return app, tag

    yield make
    for app, tag in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
            store = redis.Redis.from_url(app.config["RATELIMIT_STORAGE_URI"])
            try:
                keys = list(store.scan_iter(match=f"*{tag}*"))
                if keys:
                    store.delete(*keys)
            finally:
                store.close()


def _attempts(app: Flask) -> Callable[..., int]:
    """A login attempt from an address, answering the status code."""
    client = app.test_client()

    def attempt(email: str, password: str = "wrong password", ip: str = "192.0.2.1") -> int:
        return client.post("/mod/login", data={"email": email, "password": password,
                                               "csrf_token": csrf_token(client)},
                           environ_base={"REMOTE_ADDR": ip}).status_code

    return attempt


def test_failed_logins_are_limited_per_account_and_per_address(
        limited_app: Callable[..., tuple[Flask, str]]) -> None:
    app, tag = limited_app(RATELIMIT_LOGIN_ACCOUNT="3 per minute",
                           RATELIMIT_LOGIN_ACCOUNT_GLOBAL="6 per minute",
                           RATELIMIT_LOGIN_IP="5 per minute")
    owner, attempt = f"owner-{tag}@example.org", _attempts(app)
    assert [attempt(owner, ip="192.0.2.1") for _ in range(4)] == [401, 401, 401, 429]
    # Locked for that address even with the right password...
    assert attempt(owner, PASSWORD, ip="192.0.2.1") == 429
    # ...while another account still logs in from there.
    assert attempt("newsmod@example.org", PASSWORD, ip="192.0.2.1") == 302
    # One address trying many accounts is stopped too.
    results = [attempt(f"user{i}-{tag}@example.org", ip="203.0.113.1") for i in range(6)]
    assert results == [401] * 5 + [429]
    client = app.test_client()
    res = client.post("/mod/login", data={"email": f"x-{tag}@example.org", "password": "p",
                                          "csrf_token": csrf_token(client)},
                      environ_base={"REMOTE_ADDR": "203.0.113.1"})
    assert res.status_code == 429 and "Retry-After" in res.headers


def test_failed_logins_from_one_address_do_not_lock_the_owner_out_elsewhere(
        limited_app: Callable[..., tuple[Flask, str]]) -> None:
    app, tag = limited_app(RATELIMIT_LOGIN_ACCOUNT="3 per minute",
                           RATELIMIT_LOGIN_IP="50 per minute",
                           RATELIMIT_LOGIN_ACCOUNT_GLOBAL="50 per minute")
    owner, attempt = f"owner-{tag}@example.org", _attempts(app)
    assert [attempt(owner, ip="192.0.2.1") for _ in range(5)] == [401] * 3 + [429] * 2
    assert attempt(owner, PASSWORD, ip="198.51.100.7") == 302
    assert attempt(owner, ip="198.51.100.7") == 401


def test_failed_logins_for_one_account_from_many_addresses_meet_a_ceiling(
        limited_app: Callable[..., tuple[Flask, str]]) -> None:
    app, tag = limited_app(RATELIMIT_LOGIN_ACCOUNT="3 per minute",
                           RATELIMIT_LOGIN_IP="50 per minute",
                           RATELIMIT_LOGIN_ACCOUNT_GLOBAL="5 per minute")
    owner, attempt = f"owner-{tag}@example.org", _attempts(app)
    spread = [attempt(owner, ip=f"192.0.2.{i}") for i in range(1, 7)]
    assert spread == [401] * 5 + [429]
    # Past the ceiling the account is locked from every address, even with the right password.
    assert attempt(owner, PASSWORD, ip="198.51.100.7") == 429
    assert attempt("newsmod@example.org", PASSWORD, ip="198.51.100.7") == 302


def test_wrong_current_passwords_on_the_password_form_are_limited(
        limited_app: Callable[..., tuple[Flask, str]]) -> None:
    app, tag = limited_app(RATELIMIT_LOGIN_IP="50 per minute",
                           RATELIMIT_LOGIN_ACCOUNT_GLOBAL="3 per minute")
    client, token = login(app, f"owner-{tag}@example.org")

    def change(current: str) -> int:
        return client.post("/mod/account/password", data={
            "csrf_token": token, "current_password": current, "password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD}).status_code

    assert [change(f"guess {i}") for i in range(3)] == [401] * 3
    assert change(PASSWORD) == 429
    with app.app_context():
        assert authenticate(f"owner-{tag}@example.org", PASSWORD) is not None


@pytest.mark.parametrize("limit", ["RATELIMIT_LOGIN_ACCOUNT", "RATELIMIT_LOGIN_ACCOUNT_GLOBAL"])
def test_a_locked_login_looks_the_same_whether_the_account_exists_or_not(
        limited_app: Callable[..., tuple[Flask, str]], limit: str) -> None:
    app, tag = limited_app(**{"RATELIMIT_LOGIN_IP": "50 per minute",
                              "RATELIMIT_LOGIN_ACCOUNT": "20 per minute",
                              "RATELIMIT_LOGIN_ACCOUNT_GLOBAL": "40 per minute",
                              limit: "2 per minute"})
    answers = []
    for email in (f"owner-{tag}@example.org", f"nobody-{tag}@example.org"):
        client = app.test_client()
        for _ in range(2):
            client.post("/mod/login", data={"email": email, "password": "wrong password",
                                            "csrf_token": csrf_token(client)})
        res = client.post("/mod/login", data={"email": email, "password": "wrong password",
                                              "csrf_token": csrf_token(client)})
        answers.append((res.status_code, res.get_data(as_text=True),
                        res.headers["RateLimit-Limit"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429 and "exist" not in answers[0][1]


def test_a_moderator_changes_their_own_password(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "newsmod@example.org")
    elsewhere, _ = login(app, "newsmod@example.org")
    copied = app.test_client()
    copied.set_cookie("session", client.get_cookie("session").value)
    form = {"csrf_token": token, "current_password": PASSWORD, "password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD}
    assert 'name="current_password"' in client.get("/mod/account").get_data(as_text=True)
    refused = [client.post("/mod/account/password", data=form | change) for change in (
        {"current_password": "not my password"}, {"repeat": NEW_PASSWORD + "!"},
        {"password": "too short", "repeat": "too short"}, {"csrf_token": ""})]
    assert [r.status_code for r in refused] == [401, 422, 422, 400]
    assert "The two new passwords differ." in refused[1].get_data(as_text=True)
    assert "at least 10 characters" in refused[2].get_data(as_text=True)
    with app.app_context():
        assert authenticate("newsmod@example.org", PASSWORD) is not None
    assert elsewhere.get("/mod/queue").status_code == 200

    res = client.post("/mod/account/password", data=form)
    assert res.status_code == 302 and res.headers["Location"] == "/mod/account"
    # This browser stays signed in, on a fresh session with a new CSRF token...
    assert client.get("/mod/queue").status_code == 200
    assert client.post("/mod/tokens", data={"csrf_token": token, "name": "x"}).status_code == 400
    # ...while every other session, and an old copy of this one, has ended.
    assert elsewhere.get("/mod/queue").status_code == 302
    assert copied.get("/mod/queue").status_code == 302
    with app.app_context():
        assert authenticate("newsmod@example.org", PASSWORD) is None
        assert authenticate("newsmod@example.org", NEW_PASSWORD) is not None


def test_a_new_password_or_deactivation_revokes_the_accounts_api_tokens(app: Flask) -> None:
    setup_sites(app)
    with app.app_context():
        _, kept = create_api_token(db.session.scalar(db.select(Moderator).filter_by(
            email="admin@example.org")), "other account")
        newsmod = db.session.scalar(db.select(Moderator).filter_by(email="newsmod@example.org"))
        _, before_change = create_api_token(newsmod, "bot")
        set_password(newsmod, NEW_PASSWORD)
        _, before_deactivation = create_api_token(newsmod, "bot 2")
        assert moderator_for_token(before_change) is None
        assert moderator_for_token(before_deactivation) is not None
        admin = db.session.scalar(db.select(Moderator).filter_by(email="admin@example.org"))
        update_moderator(admin, newsmod, active=False)
        assert moderator_for_token(before_deactivation) is None
        # Active again, the account needs new tokens: the old ones stay revoked.
        update_moderator(admin, newsmod, active=True)
        assert moderator_for_token(before_deactivation) is None
        assert moderator_for_token(kept) is not None


class _BothRead:
    """Holds each of two requests after it has read the active admins, until the other has read
    them too, or is about to take the lock that makes it wait for the first (FOR UPDATE on
    PostgreSQL, BEGIN IMMEDIATE on SQLite). Without a lock both read before either writes."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.read: set[str] = set()
        self.locking: set[str] = set()
        self.stuck = False
        self.changed = threading.Condition()

    def before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        name = self.names.get(threading.get_ident())
        if name and ("FOR UPDATE" in statement or statement.startswith("BEGIN IMMEDIATE")):
            with self.changed:
                self.locking.add(name)
                self.changed.notify_all()

    def after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        name = self.names.get(threading.get_ident())
        if not name or "moderators.role = " not in statement or name in self.read:
            return
        other = "b" if name == "a" else "a"
        with self.changed:
            self.read.add(name)
            self.changed.notify_all()
            if not self.changed.wait_for(lambda: other in self.read | self.locking, timeout=30):
                self.stuck = True


@pytest.mark.parametrize("change", [{"role": "moderator", "active": "on"}, {"role": "admin"}],
                         ids=["demote", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_an_active_admin(
        app: Flask, change: dict[str, str]) -> None:
    setup_sites(app)
    with app.app_context():
        create_moderator("second@example.org", PASSWORD, "admin")
        ids = dict(db.session.execute(db.select(Moderator.email, Moderator.id)).all())
    clients = {"a": login(app, "admin@example.org"), "b": login(app, "second@example.org")}
    targets = {"a": ids["second@example.org"], "b": ids["admin@example.org"]}
    hold = _BothRead()
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def remove_the_other(name: str) -> None:
        hold.names[threading.get_ident()] = name
        client, token = clients[name]
        start.wait()
        statuses[name] = client.post(f"/mod/moderators/{targets[name]}",
                                     data={"csrf_token": token, **change}).status_code

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hold.before)
    event.listen(engine, "after_cursor_execute", hold.after)
    try:
        threads = [threading.Thread(target=remove_the_other, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        event.remove(engine, "before_cursor_execute", hold.before)
        event.remove(engine, "after_cursor_execute", hold.after)
    assert not hold.stuck and hold.read == {"a", "b"}
    assert sorted(statuses.values()) in ([302, 403], [302, 409])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Moderator.id)).where(
            Moderator.role == Role.ADMIN, Moderator.active.is_(True))) == 1
