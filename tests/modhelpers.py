"""Builders for the moderation tests: sites, accounts, pending comments and logged-in clients."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from comments.extensions import db
from comments.models import Comment, Moderator
from comments.services.accounts import create_moderator
from comments.services.moderation import apply
from comments.services.sites import create_site

PASSWORD = "correct horse battery"


def setup_sites(app: Flask) -> None:
    """Two pre-moderated sites, an admin, and a moderator of each site."""
    with app.app_context():
        create_site("news", "News", ["https://news.example"], "pre")
        create_site("blog", "Blog", ["https://blog.example"], "pre")
        create_moderator("admin@example.org", PASSWORD, "admin")
        create_moderator("newsmod@example.org", PASSWORD, "moderator", ["news"])
        create_moderator("blogmod@example.org", PASSWORD, "moderator", ["blog"])


def post_comment(app: Flask, site: str = "news", article: str = "a1", text: str = "Hello",
                 name: str = "Reader", email: str | None = "reader@example.net",
                 parent_id: int | None = None, ip: str = "203.0.113.9") -> int:
    """Post through the public API as a reader at `ip`; returns the new comment's id."""
    client = app.test_client()
    origin = f"https://{site}.example"
    author = {"name": name} | ({"email": email} if email else {})
    res = client.post("/api/v1/comments", json={
        "site": site, "article": article, "url": f"{origin}/{article}", "title": f"Article {article}",
        "author": author, "text": text, "parent_id": parent_id,
    }, headers={"Origin": origin}, environ_base={"REMOTE_ADDR": ip})
    assert res.status_code == 201, res.get_json()
    return res.get_json()["comment"]["id"]


def approved_then_edited(app: Flask, before: str, after: str, site: str = "news") -> int:
    """A reader's comment that an admin approved and its author then edited; returns its id."""
    client, origin = app.test_client(), f"https://{site}.example"
    body = client.post("/api/v1/comments", json={
        "site": site, "article": "a1", "author": {"name": "Eve"}, "text": before,
    }, headers={"Origin": origin}).get_json()
    with app.app_context():
        admin = db.session.scalar(db.select(Moderator).filter_by(role="admin"))
        apply(admin, [body["comment"]["id"]], "approve")
    res = client.patch(f"/api/v1/comments/{body['comment']['id']}", json={"text": after},
                       headers={"Origin": origin, "Authorization": f"Bearer {body['edit_token']}"})
    assert res.status_code == 200, res.get_json()
    return body["comment"]["id"]


def csrf_token(client: FlaskClient) -> str:
    """A CSRF token for the client's session, read from the login form as a browser would."""
    page = client.get("/mod/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "login page carries a CSRF token"
    return match.group(1)


def login(app: Flask, email: str) -> tuple[FlaskClient, str]:
    """A client logged in as `email`, and its CSRF token."""
    client = app.test_client()
    res = client.post("/mod/login", data={"email": email, "password": PASSWORD,
                                          "csrf_token": csrf_token(client)})
    assert res.status_code == 302, res.get_data(as_text=True)
    page = client.get("/mod/tokens").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client, token.group(1)


def status_of(app: Flask, comment_id: int) -> str:
    with app.app_context():
        return db.session.get(Comment, comment_id).status.value


def account(app: Flask, email: str) -> Moderator:
    """An account, loaded and detached for use in service calls inside a new context."""
    with app.app_context():
        return db.session.scalar(db.select(Moderator).filter_by(email=email))
