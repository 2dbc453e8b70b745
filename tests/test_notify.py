"""Reply emails, unsubscribe links, moderators' queue digests and their single-use signed links."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from flask import Flask
from itsdangerous import TimestampSigner

from comments import mail
from comments.extensions import db
from comments.models import AuditEntry, Comment, Moderator, UsedLink
from comments.sanitize import render
from comments.services import moderation, notify
from comments.services.accounts import create_moderator
from comments.services.sites import create_site, get_site, update_site

from .mailhelpers import PUBLIC_URL, SmtpServer, page_csrf, parts, post
from .mailhelpers import mailer, smtp  # noqa: F401  (fixtures)
from .modhelpers import account, login, setup_sites, status_of

UNSUBSCRIBE = re.compile(re.escape(PUBLIC_URL) + r"/unsubscribe/[\w.-]+")


@pytest.fixture
def news(mailer: Flask) -> Flask:
    """The mailing app with two post-moderated sites, `news` and `blog`."""
    with mailer.app_context():
        create_site("news", "News", ["https://news.example"])
        create_site("blog", "Blog", ["https://blog.example"])
    return mailer


def _send(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return mail.send_pending()


def _parent(app: Flask, notify_on: bool = True, email: str = "parent@example.net",
            site: str = "news") -> int:
    return post(app, "The parent", email=email, notify=notify_on, site=site)["comment"]["id"]


def test_an_approved_reply_emails_the_parent_author_once(news: Flask, smtp: SmtpServer) -> None:
    parent = _parent(news)
    reply = post(news, "I **disagree**, see https://news.example/facts", name="Rita",
                 email="rita@example.net", parent_id=parent)["comment"]["id"]
    assert _send(news) == (1, 0)
    assert _send(news) == (0, 0)
    [message] = smtp.messages
    assert message["To"] == "parent@example.net"
    assert message["Subject"] == "New reply to your comment on News"
    text, html = parts(message)
    link = f"https://news.example/a1#comment-{reply}"
    assert "Rita replied to your comment" in text
    assert "I disagree, see https://news.example/facts" in text
    assert link in text and link in html
    unsubscribe = UNSUBSCRIBE.search(text)
    assert unsubscribe and message["List-Unsubscribe"] == f"<{unsubscribe.group(0)}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_stored_address_that_is_a_list_gets_no_reply_mail(news: Flask, smtp: SmtpServer) -> None:
    """Addresses stored before posting checked for one plain address may still be lists."""
    parent = _parent(news)
    with news.app_context():
        db.session.get(Comment, parent).author_email = "root@example.net,attacker@evil.example"
        db.session.commit()
    post(news, "A reply", name="Rita", email="rita@example.net", parent_id=parent)
    assert _send(news) == (0, 0)
    assert smtp.messages == []


def test_a_reply_emails_only_text_never_markup(news: Flask, smtp: SmtpServer) -> None:
    parent = _parent(news)
    hostile = ('<a href="javascript:alert(1)">win</a> <img src="https://evil.example/p.png"> '
               '<script>alert(1)</script> [Log in here](https://evil.example/login) & "more"')
    post(news, hostile, email="rita@example.net", parent_id=parent)
    _send(news)
    text, html = parts(smtp.messages[0])
    assert "Log in here (https://evil.example/login)" in text
    assert "Log in here (https://evil.example/login)" in html
    assert "<img" not in html and "<script" not in html
    assert '<a href="javascript' not in html and "evil.example/login\"" not in html
    assert "&lt;img" in html, "typed HTML is shown as text"
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("https://news.example/a1#", PUBLIC_URL)) for h in hrefs)
    assert '& "more"' in text


def test_plain_text_writes_links_out_and_keeps_paragraphs() -> None:
    html = render("A [label](https://a.example/?x=1&y=2), https://b.example and **bold**.\n"
                  "Next line & <b>\n\n- one\n- [two](mailto:t@example.net)\n\n"
                  "```\n  code\n```")
    assert notify.plain_text(html) == (
        "A label (https://a.example/?x=1&y=2), https://b.example and bold.\n"
        "Next line & <b>\n\n- one\n- two (mailto:t@example.net)\n\n  code")


def test_thread_without_url_links_to_the_thread_page(news: Flask, smtp: SmtpServer) -> None:
    parent = post(news, "Parent", email="parent@example.net", notify=True, url=False,
                  article="no url")["comment"]["id"]
    reply = post(news, "Reply", email="rita@example.net", parent_id=parent, url=False,
                 article="no url")["comment"]["id"]
    _send(news)
    text, _ = parts(smtp.messages[0])
    assert f"{PUBLIC_URL}/t/news?article=no+url#comment-{reply}" in text


@pytest.mark.parametrize("notify_on, reply_email", [
    (False, "rita@example.net"),
    (True, "parent@example.net"),
    (True, "Parent@Example.net"),
])
def test_no_email_without_the_opt_in_or_for_ones_own_reply(news: Flask, smtp: SmtpServer,
                                                            notify_on: bool,
                                                            reply_email: str) -> None:
    parent = _parent(news, notify_on)
    post(news, "A reply", email=reply_email, parent_id=parent)
    assert _send(news) == (0, 0) and smtp.messages == []


@pytest.mark.parametrize("payload, message", [
    ({"notify": True}, "email"),
    ({"notify": "yes", "author": {"name": "R", "email": "r@example.net"}}, "true or false"),
])
def test_notify_needs_a_boolean_and_an_email(news: Flask, payload: dict[str, object],
                                             message: str) -> None:
    body = {"site": "news", "article": "a1", "text": "Hi", "author": {"name": "R"}} | payload
    res = news.test_client().post("/api/v1/comments", json=body,
                                  headers={"Origin": "https://news.example"})
    assert res.status_code == 422
    assert res.get_json()["error"]["field"] == "notify"
    assert message in res.get_json()["error"]["message"]


def test_a_held_reply_emails_when_a_moderator_approves_it(news: Flask, smtp: SmtpServer) -> None:
    parent = _parent(news)
    with news.app_context():
        create_moderator("newsmod@example.org", "correct horse battery", "moderator", ["news"])
        update_site(get_site("news"), actor=None, moderation="pre")
    reply = post(news, "Held reply", email="rita@example.net", parent_id=parent)
    assert reply["status"] == "pending"
    assert _send(news) == (0, 0)
    with news.app_context():
        moderation.apply(account(news, "newsmod@example.org"), [reply["comment"]["id"]], "approve")
    assert _send(news) == (1, 0)
    assert "Held reply" in parts(smtp.messages[0])[0]
    with news.app_context():
        moderation.apply(account(news, "newsmod@example.org"), [reply["comment"]["id"]], "approve")
    assert _send(news) == (0, 0), "approving an approved reply again sends nothing"


def test_one_click_unsubscribe_needs_no_csrf_and_stops_the_emails(news: Flask,
                                                                   smtp: SmtpServer) -> None:
    first, second = _parent(news), _parent(news)
    elsewhere = _parent(news, site="blog")
    post(news, "Reply", email="rita@example.net", parent_id=first)
    _send(news)
    url = _header_path(smtp.messages[0]["List-Unsubscribe"])
    client = news.test_client()
    page = client.get(url)
    assert page.status_code == 200 and "Stop reply emails?" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert _notify_flags(news) == {first: True, second: True, elsewhere: True}, "a GET changes nothing"
    res = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert res.status_code == 200 and "You are unsubscribed" in res.get_data(as_text=True)
    assert _notify_flags(news) == {first: False, second: False, elsewhere: True}
    post(news, "Another reply", email="rita@example.net", parent_id=second)
    assert _send(news) == (0, 0)


def test_a_reply_email_carries_one_click_unsubscribe_headers_unencoded(news: Flask,
                                                                       smtp: SmtpServer) -> None:
    parent = _parent(news)
    post(news, "Reply", email="rita@example.net", parent_id=parent)
    _send(news)
    [raw] = smtp.inbox.raw
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    # Folded onto one line: the providers read the header as sent, not as a mail client decodes it.
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    fields = dict(line.split(": ", 1) for line in unfolded.split("\r\n"))
    assert "=?" not in fields["List-Unsubscribe"], fields["List-Unsubscribe"]
    assert re.fullmatch(f"<{UNSUBSCRIBE.pattern}>", fields["List-Unsubscribe"])
    assert fields["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert fields["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[^<>@\s]+@comments\.test>", fields["Message-ID"])
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d (\+0000|GMT)", fields["Date"])
    # What a provider does on "unsubscribe": POST the RFC 8058 body, with no cookie and no token.
    res = news.test_client().post(_header_path(fields["List-Unsubscribe"]),
                                  data=b"List-Unsubscribe=One-Click",
                                  content_type="application/x-www-form-urlencoded")
    assert res.status_code == 200 and "You are unsubscribed" in res.get_data(as_text=True)
    assert _notify_flags(news) == {parent: False}


def test_a_tampered_unsubscribe_link_is_refused(news: Flask, smtp: SmtpServer) -> None:
    parent = _parent(news)
    post(news, "Reply", email="rita@example.net", parent_id=parent)
    _send(news)
    url = _header_path(smtp.messages[0]["List-Unsubscribe"])
    res = news.test_client().post(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
    assert res.status_code == 403 and "not valid" in res.get_data(as_text=True)
    assert _notify_flags(news) == {parent: True}


def _header_path(header: str) -> str:
    """The path of the URL in a List-Unsubscribe header."""
    return urlsplit(header.strip("<>")).path


def _notify_flags(app: Flask) -> dict[int, bool]:
    with app.app_context():
        rows = db.session.execute(db.select(Comment.id, Comment.notify_replies)
                                  .where(Comment.parent_id.is_(None)))
        return {row.id: row.notify_replies for row in rows}


@pytest.fixture
def queue(mailer: Flask) -> Flask:
    """Pre-moderated `news` and `blog`, their moderators, and newsmod opted in to queue emails."""
    setup_sites(mailer)
    client, token = login(mailer, "newsmod@example.org")
    page = client.get("/mod/account").get_data(as_text=True)
    assert "Email me when comments wait" in page and ">Account</a>" in page
    res = client.post("/mod/account", data={"notify_queue": "on", "csrf_token": token})
    assert res.status_code == 302
    return mailer


def _digest(app: Flask) -> int:
    with app.app_context():
        return notify.queue_digest()


def test_a_digest_lists_the_new_comments_of_the_moderators_sites(queue: Flask,
                                                                  smtp: SmtpServer) -> None:
    ids = [post(queue, f"Waiting comment {n}", name=f"Author {n}")["comment"]["id"]
           for n in range(3)]
    post(queue, "A blog comment", site="blog")
    assert _digest(queue) == 1
    assert _digest(queue) == 0, "nothing new"
    assert _send(queue) == (1, 0)
    [message] = smtp.messages
    assert message["To"] == "newsmod@example.org"
    assert message["Subject"] == "3 comments wait for moderation"
    text, html = parts(message)
    for n in range(3):
        assert f"Author {n}" in text and f"Waiting comment {n}" in html
    assert "A blog comment" not in text
    assert len(re.findall(r"Approve: " + re.escape(PUBLIC_URL) + r"/mod/mail/", text)) == 3
    assert len(re.findall(r"Remove: +" + re.escape(PUBLIC_URL) + r"/mod/mail/", text)) == 3
    with queue.app_context():
        assert account(queue, "newsmod@example.org").notified_up_to == ids[-1]
    post(queue, "One more")
    assert _digest(queue) == 1
    _send(queue)
    assert smtp.messages[1]["Subject"] == "1 comment waits for moderation"


def test_opting_in_announces_only_comments_that_come_later(queue: Flask) -> None:
    post(queue, "Before", site="blog")
    client, token = login(queue, "blogmod@example.org")
    client.post("/mod/account", data={"notify_queue": "on", "csrf_token": token})
    assert _digest(queue) == 0
    post(queue, "After", site="blog")
    assert _digest(queue) == 1


def _links(smtp: SmtpServer, action: str) -> list[str]:
    text, _ = parts(smtp.messages[-1])
    return [urlsplit(url).path for url in re.findall(action + r": +(\S+)", text)]


def test_an_approve_link_confirms_then_acts_once_as_its_moderator(queue: Flask,
                                                                   smtp: SmtpServer) -> None:
    comment = post(queue, "Please approve me")["comment"]["id"]
    _digest(queue)
    _send(queue)
    [link] = _links(smtp, "Approve")
    client = queue.test_client()
    page = client.get(link)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Please approve me" in body and "Approve as newsmod" in body
    assert client.get(link).status_code == 200
    assert status_of(queue, comment) == "pending", "a GET approves nothing"
    assert client.post(link).status_code == 400, "the POST needs the page's CSRF token"
    token = page_csrf(client, link)
    done = client.post(link, data={"csrf_token": token})
    assert done.status_code == 200 and "is approved" in done.get_data(as_text=True)
    assert status_of(queue, comment) == "approved"
    with queue.app_context():
        entry = db.session.scalar(db.select(AuditEntry).filter_by(comment_id=comment))
        moderator = db.session.scalar(db.select(Moderator).filter_by(email="newsmod@example.org"))
        assert entry.action == "approve" and entry.moderator_id == moderator.id
        assert db.session.scalar(db.select(db.func.count(UsedLink.id))) == 1
    again = client.post(link, data={"csrf_token": token})
    assert again.status_code == 409 and "used already" in again.get_data(as_text=True)
    assert client.get(link).status_code == 409


def test_a_remove_link_takes_a_reason(queue: Flask, smtp: SmtpServer) -> None:
    comment = post(queue, "Remove me")["comment"]["id"]
    _digest(queue)
    _send(queue)
    [link] = _links(smtp, "Remove")
    client = queue.test_client()
    token = page_csrf(client, link)
    assert client.post(link, data={"csrf_token": token, "reason": "off topic"}).status_code == 200
    assert status_of(queue, comment) == "removed"
    with queue.app_context():
        entry = db.session.scalar(db.select(AuditEntry).filter_by(comment_id=comment))
        assert entry.action == "remove" and entry.reason == "off topic"


def test_expired_and_tampered_links_are_refused(queue: Flask, smtp: SmtpServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    comment = post(queue, "Old news")["comment"]["id"]
    eight_days_ago = int(time.time()) - 8 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        _digest(queue)
    _send(queue)
    [expired] = _links(smtp, "Approve")
    client = queue.test_client()
    res = client.get(expired)
    assert res.status_code == 403 and "expired" in res.get_data(as_text=True)
    post(queue, "Fresh news")
    _digest(queue)
    _send(queue)
    [fresh] = _links(smtp, "Approve")
    token = fresh.rsplit("/", 1)[1]
    head, _, signature = token.rpartition(".")
    forged = f"{head}.{signature[::-1]}"
    assert client.get(f"/mod/mail/{forged}").status_code == 403
    assert client.get(f"/mod/mail/{token[:-1]}").status_code == 403
    assert client.get("/mod/mail/nonsense").status_code == 403
    assert status_of(queue, comment) == "pending"


def test_a_link_stops_working_when_the_moderator_loses_the_site(queue: Flask,
                                                                  smtp: SmtpServer) -> None:
    post(queue, "Waiting")
    _digest(queue)
    _send(queue)
    [link] = _links(smtp, "Approve")
    with queue.app_context():
        person = db.session.scalar(db.select(Moderator).filter_by(email="newsmod@example.org"))
        person.active = False
        db.session.commit()
    assert queue.test_client().get(link).status_code == 403
