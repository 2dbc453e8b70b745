"""Moderator accounts: hashing, logins, and the limits on failed logins."""
from __future__ import annotations

from flask import Flask

from comments.extensions import db
from comments.models import Moderator
from comments.services.accounts import authenticate

from .conftest import make_app
from .modhelpers import PASSWORD, csrf_token, setup_sites


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


def test_failed_logins_are_limited_per_account_and_per_address(tmp_path) -> None:
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_ACCOUNT="3 per minute",
                   RATELIMIT_LOGIN_IP="5 per minute")
    setup_sites(app)
    client = app.test_client()

    def attempt(email: str, password: str = "wrong password", ip: str = "192.0.2.1") -> int:
        return client.post("/mod/login", data={"email": email, "password": password,
                                               "csrf_token": csrf_token(client)},
                           environ_base={"REMOTE_ADDR": ip}).status_code

    assert [attempt("admin@example.org", ip=f"192.0.2.{i}") for i in range(1, 5)] == [401, 401, 401, 429]
    # The account stays locked from every address, even with the right password...
    assert attempt("admin@example.org", PASSWORD, ip="198.51.100.1") == 429
    # ...while another account still logs in.
    assert attempt("newsmod@example.org", PASSWORD, ip="198.51.100.1") == 302
    # One address trying many accounts is stopped too.
    results = [attempt(f"user{i}@example.org", ip="203.0.113.1") for i in range(6)]
    assert results == [401] * 5 + [429]
    res = client.post("/mod/login", data={"email": "x@example.org", "password": "p",
                                          "csrf_token": csrf_token(client)},
                      environ_base={"REMOTE_ADDR": "203.0.113.1"})
    assert res.status_code == 429 and "Retry-After" in res.headers
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
