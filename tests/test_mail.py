"""The outbox and its sender, against a real SMTP server: delivery, retries, claims, worker, CLI."""
from __future__ import annotations

import ast
import logging
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from comments import mail
from comments.extensions import db
from comments.models import Comment, OutboxItem, utcnow
from comments.services.sites import create_site

from .conftest import make_app
from .helpers import post as post_comment
from .mailhelpers import SmtpServer, dispose, free_port, mail_app, parts, post
from .mailhelpers import mailer, smtp  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def _queue(app: Flask, count: int = 1) -> None:
    with app.app_context():
        for n in range(count):
            mail.enqueue(f"reader{n}@example.net", f"Hello {n}", f"Text {n}", f"<p>Html {n}</p>",
                         headers={"X-Test": str(n)})
        db.session.commit()


def _items(app: Flask) -> list[OutboxItem]:
    with app.app_context():
        items = db.session.scalars(db.select(OutboxItem).order_by(OutboxItem.id)).all()
        db.session.expunge_all()
        return list(items)


def test_enqueue_joins_the_callers_transaction(mailer: Flask) -> None:
    with mailer.app_context():
        mail.enqueue("a@example.net", "Lost", "never sent")
        db.session.rollback()
        mail.enqueue("b@example.net", "Kept", "sent")
        db.session.commit()
    assert [item.payload["to"] for item in _items(mailer)] == ["b@example.net"]


def test_send_pending_delivers_text_html_and_headers(mailer: Flask, smtp: SmtpServer) -> None:
    _queue(mailer)
    with mailer.app_context():
        assert mail.send_pending() == (1, 0)
        assert mail.send_pending() == (0, 0)
    [message] = smtp.messages
    assert message["To"] == "reader0@example.net"
    assert message["From"] == "Comments <comments@comments.test>"
    assert message["Subject"] == "Hello 0"
    assert message["X-Test"] == "0"
    assert message["Message-ID"].endswith("@comments.test>")
    text, html = parts(message)
    assert text.strip() == "Text 0" and html.strip() == "<p>Html 0</p>"
    [item] = _items(mailer)
    assert item.sent_at is not None and item.attempts == 1 and item.last_error is None


def test_every_mail_is_marked_automatic_and_keeps_short_body_lines(mailer: Flask,
                                                                   smtp: SmtpServer) -> None:
    with mailer.app_context():
        mail.enqueue("a@example.net", "Ünïcode", "é" * 300, "<p>" + "é" * 300 + "</p>",
                     headers={"X-Long": "<https://comments.test/" + "x" * 200 + ">"})
        db.session.commit()
        assert mail.send_pending() == (1, 0)
    [raw] = smtp.inbox.raw
    head, body = raw.split(b"\r\n\r\n", 1)
    fields = dict(line.split(": ", 1) for line in
                  re.sub(r"\r\n[ \t]+", " ", head.decode("ascii")).split("\r\n"))
    assert fields["Auto-Submitted"] == "auto-generated"
    assert fields["Message-ID"].endswith("@comments.test>")
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d (\+0000|GMT)", fields["Date"])
    assert fields["X-Long"] == "<https://comments.test/" + "x" * 200 + ">"
    assert fields["Subject"].startswith("=?utf-8?"), "non-ASCII headers are still encoded"
    assert max(len(line) for line in body.split(b"\r\n")) <= 76, "encoded bodies keep RFC 2045 lines"
    assert [part.get_content().strip() for part in smtp.messages[0].iter_parts()] == [
        "é" * 300, "<p>" + "é" * 300 + "</p>"]


def test_header_injection_in_a_subject_is_flattened(mailer: Flask, smtp: SmtpServer) -> None:
    with mailer.app_context():
        mail.enqueue("a@example.net", "Hi\r\nBcc: victim@example.net", "text")
        db.session.commit()
        assert mail.send_pending() == (1, 0)
    [message] = smtp.messages
    assert message["Subject"] == "Hi Bcc: victim@example.net" and message["Bcc"] is None


def test_mail_off_keeps_the_outbox_waiting(tmp_path: Path, _postgres_schema: None) -> None:
    app = make_app(tmp_path)
    try:
        _queue(app)
        with app.app_context():
            assert mail.send_pending() == (0, 0)
        [item] = _items(app)
        assert item.sent_at is None and item.attempts == 0
    finally:
        dispose(app)


def test_smtp_down_keeps_the_post_and_sends_later(tmp_path: Path, _postgres_schema: None) -> None:
    server = SmtpServer(free_port())
    app = mail_app(tmp_path, server.port)
    try:
        with app.app_context():
            create_site("news", "News", ["https://news.example"])
        parent = post(app, "Parent", email="parent@example.net", notify=True)["comment"]["id"]
        posted = post(app, "A reply", email="other@example.net", parent_id=parent)
        assert posted["status"] == "approved"
        with app.app_context():
            assert mail.send_pending() == (0, 1)
        [item] = _items(app)
        assert item.sent_at is None and item.failed_at is None and item.attempts == 1
        assert item.last_error and "Connection" in item.last_error
        assert item.next_attempt_at > utcnow()
        server.start()
        with app.app_context():
            assert mail.send_pending() == (0, 0), "not due before its backoff"
            assert mail.send_pending(now=utcnow() + timedelta(minutes=2)) == (1, 0)
        assert [m["To"] for m in server.messages] == ["parent@example.net"]
        [item] = _items(app)
        assert item.sent_at is not None and item.attempts == 2 and item.last_error is None
    finally:
        server.stop()
        dispose(app)


def test_retries_back_off_then_give_up(tmp_path: Path, _postgres_schema: None) -> None:
    app = mail_app(tmp_path, free_port(), MAIL_MAX_ATTEMPTS=3)
    try:
        _queue(app)
        start = utcnow()
        with app.app_context():
            assert mail.send_pending(now=start) == (0, 1)
            assert _items(app)[0].next_attempt_at == start + timedelta(minutes=1)
            assert mail.send_pending(now=start + timedelta(seconds=59)) == (0, 0)
            assert mail.send_pending(now=start + timedelta(minutes=1)) == (0, 1)
            second = _items(app)[0]
            assert second.next_attempt_at == start + timedelta(minutes=3) and second.failed_at is None
            assert mail.send_pending(now=start + timedelta(minutes=3)) == (0, 1)
            assert mail.send_pending(now=start + timedelta(days=1)) == (0, 0)
        [item] = _items(app)
        assert item.attempts == 3 and item.failed_at is not None and item.sent_at is None
        assert item.last_error
    finally:
        dispose(app)


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [mail.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert mail.backoff(30) == mail.MAX_BACKOFF


def test_a_claimed_email_is_not_claimed_again(mailer: Flask) -> None:
    _queue(mailer)
    [item] = _items(mailer)
    with mailer.app_context():
        now = utcnow()
        assert mail.claim(item.id, 0, now) is True
        # A second sender that read the row before the first claimed it finds it taken.
        assert mail.claim(item.id, 0, now) is False


def test_concurrent_senders_never_send_an_email_twice(mailer: Flask, smtp: SmtpServer) -> None:
    _queue(mailer, 30)
    start = threading.Barrier(2)
    results: list[tuple[int, int]] = []

    def sender() -> None:
        with mailer.app_context():
            start.wait()
            results.append(mail.send_pending())

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(sent for sent, _ in results) == 30 and all(failed == 0 for _, failed in results)
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert all(item.sent_at is not None and item.attempts == 1 for item in _items(mailer))


def test_background_sender_starts_with_the_first_request(tmp_path: Path, smtp: SmtpServer,
                                                         _postgres_schema: None) -> None:
    app = mail_app(tmp_path, smtp.port, TESTING=False, MAIL_POLL_SECONDS=1)
    sender = app.extensions[mail.EXTENSION]
    try:
        _queue(app)
        assert sender.thread is None, "nothing starts with the app"
        for _ in range(2):
            assert app.test_client().get("/mod/login").status_code == 200
        assert sender.thread is not None and sender.thread.is_alive()
        assert len([t for t in threading.enumerate() if t.name == "comments-mail"]) == 1
        assert [m["To"] for m in smtp.inbox.wait_for(1)] == ["reader0@example.net"]
    finally:
        sender.stop.set()
        if sender.thread is not None:
            sender.thread.join(10)
        dispose(app)


def test_no_background_sender_when_testing_or_switched_off(mailer: Flask, tmp_path: Path) -> None:
    assert mail.EXTENSION not in mailer.extensions
    app = make_app(tmp_path, TESTING=False, MAIL_BACKGROUND=False)
    try:
        assert mail.EXTENSION not in app.extensions
    finally:
        dispose(app)
    # Without a mail server the worker still runs, for webhooks: prepared, but started lazily.
    app = make_app(tmp_path, TESTING=False)
    try:
        sender = app.extensions[mail.EXTENSION]
        assert sender.thread is None
    finally:
        dispose(app)


def test_send_mail_command(mailer: Flask, smtp: SmtpServer) -> None:
    _queue(mailer, 2)
    result = mailer.test_cli_runner().invoke(args=["comments", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "Queued 0 digests; sent 2 emails, 0 failed" in result.output
    assert len(smtp.messages) == 2


def test_send_mail_command_refuses_when_mail_is_off(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["comments", "send-mail"])
    assert result.exit_code == 1 and "COMMENTS_MAIL_SERVER" in result.output


@pytest.mark.parametrize("settings, message", [
    ({"MAIL_SERVER": "smtp.example"}, "PUBLIC_URL"),
    ({"PUBLIC_URL": "ftp://comments.example"}, "PUBLIC_URL"),
    ({"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}, "at most one"),
    ({"MAIL_MAX_ATTEMPTS": 0}, "at least 1"),
])
def test_bad_mail_settings_fail_at_start(tmp_path: Path, settings: dict[str, object],
                                         message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        make_app(tmp_path, **settings)


def _imported_modules(path: Path) -> set[str]:
    """The absolute module names a file imports, wherever in it (relative ones resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_services_and_rate_limits_never_import_the_delivery_worker_or_the_views() -> None:
    below = sorted((ROOT / "comments" / "services").glob("*.py")) + [
        ROOT / "comments" / "limits.py", ROOT / "comments" / "outbox.py",
        ROOT / "comments" / "bodies.py"]
    above = ("comments.mail", "comments.webhooks", "comments.views")
    wrong = {f"{path.relative_to(ROOT)} imports {name}" for path in below
             for name in _imported_modules(path)
             if any(name == top or name.startswith(top + ".") for top in above)}
    assert len(below) > 10 and not wrong, sorted(wrong)


def _age(app: Flask, comment_id: int, days: int) -> None:
    with app.app_context():
        db.session.get_one(Comment, comment_id).created_at = utcnow() - timedelta(days=days)
        db.session.commit()


def _addresses(app: Flask) -> dict[int, str | None]:
    with app.app_context():
        return dict(db.session.execute(db.select(Comment.id, Comment.client_ip)).all())


@pytest.mark.usefixtures("site")
def test_the_worker_purges_old_addresses_once_a_day(app: Flask, client: FlaskClient,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    old, new = (post_comment(client, text=t).get_json()["comment"]["id"] for t in ("old", "new"))
    _age(app, old, 31)
    start = utcnow()
    with app.app_context(), caplog.at_level(logging.INFO):
        assert mail.work_round(now=start) == (0, 0, 0)
    assert _addresses(app) == {old: None, new: "127.0.0.1"}
    assert "Daily purge: erased the address of 1 comments older than 30 days." in caplog.messages
    later = post_comment(client, text="later").get_json()["comment"]["id"]
    _age(app, later, 40)
    with app.app_context():
        mail.work_round(now=start + timedelta(hours=23, minutes=59))
    assert _addresses(app)[later] == "127.0.0.1", "the day's purge is done"
    with app.app_context():
        mail.work_round(now=start + timedelta(days=1))
    assert _addresses(app) == {old: None, new: "127.0.0.1", later: None}
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxItem).where(OutboxItem.kind == "purge")).all()
        assert [(row.attempts, row.sent_at) for row in rows] == [(2, None)]
