"""Mail to people: readers told of replies, moderators of the queue, and the links it carries."""
from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import selectinload

from .. import outbox
from ..extensions import db
from ..models import Comment, CommentStatus, Moderator, Site, Thread
from .fields import plain_address

UNSUBSCRIBE_SALT = "mail-unsubscribe"
MODERATION_SALT = "mail-moderation"
# What an emailed link may do; anything else needs the moderation pages.
LINK_ACTIONS = ("approve", "remove")
# Comments listed in one digest; the rest are counted, with a link to the queue.
DIGEST_MAX = 50
EXCERPT_MAX = 400
_BLOCKS = frozenset({"p", "pre", "blockquote", "ul", "ol"})


def serializer(salt: str) -> URLSafeTimedSerializer:
    """Signs and reads the tokens of emailed links."""
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


def unsubscribe_token(email: str, site: Site) -> str:
    """The credential of a reader's unsubscribe link; it does not expire."""
    return serializer(UNSUBSCRIBE_SALT).dumps({"email": email.lower(), "site": site.slug})


def moderation_token(moderator: Moderator, comment: Comment, action: str) -> str:
    """The credential of an emailed approve or remove link; its random id makes it single-use."""
    return serializer(MODERATION_SALT).dumps({
        "moderator": moderator.id, "comment": comment.id, "action": action,
        "jti": secrets.token_urlsafe(16),
    })


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on PUBLIC_URL: mail is often built where there is no request to ask."""
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def comment_url(thread: Thread, site: Site, comment_id: int) -> str:
    """Where readers see a comment: the article's page, else the no-script thread page."""
    anchor = f"comment-{comment_id}"
    if thread.url:
        return urlsplit(thread.url)._replace(fragment=anchor).geturl()
    page = external_url("public.thread_page", slug=site.slug, article=thread.article_key)
    return f"{page}#{anchor}"


def reply_published(comment: Comment) -> bool:
    """Queue one email to the parent's author, if they asked for replies; True when queued.

    Called, before the commit, wherever a reply becomes approved. Nothing is queued while mail is
    off, or for a reply by the parent's own author.
    """
    if comment.parent_id is None or not current_app.config["MAIL_SERVER"]:
        return False
    parent = db.session.get(Comment, comment.parent_id)
    # An address stored before posting required one plain address may be a list: mail none.
    if (parent is None or not parent.notify_replies or not parent.author_email
            or not plain_address(parent.author_email)
            or parent.status is not CommentStatus.APPROVED):
        return False
    if comment.author_email and comment.author_email.lower() == parent.author_email.lower():
        return False
    # A reply being posted has no id until it is flushed, and the link needs it.
    db.session.flush()
    thread = db.session.get_one(Thread, comment.thread_id)
    site = thread.site
    token = unsubscribe_token(parent.author_email, site)
    unsubscribe = external_url("links.unsubscribe", token=token)
    text = plain_text(comment.html)
    context = {"site_name": site.name, "title": thread.title or thread.article_key,
               "author": comment.author_name, "text": text, "paragraphs": text.split("\n\n"),
               "link": comment_url(thread, site, comment.id), "unsubscribe": unsubscribe}
    outbox.enqueue(parent.author_email, f"New reply to your comment on {site.name}",
                 render_template("mail/reply.txt", **context),
                 render_template("mail/reply.html", **context),
                 headers={"List-Unsubscribe": f"<{unsubscribe}>",
                          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                 site_id=site.id)
    return True


def queue_digest() -> int:
    """Queue one email per opted-in moderator: the comments that began waiting since the last."""
    if not current_app.config["MAIL_SERVER"]:
        return 0
    people = db.session.scalars(db.select(Moderator).where(
        Moderator.active.is_(True), Moderator.notify_queue.is_(True)).order_by(Moderator.id)).all()
    queued = sum(_digest(moderator) for moderator in people)
    db.session.commit()
    return queued


def _digest(moderator: Moderator) -> bool:
    waiting = db.select(Comment).where(Comment.status == CommentStatus.PENDING,
                                       Comment.id > moderator.notified_up_to)
    if not moderator.is_admin:
        waiting = waiting.where(Comment.site_id.in_([site.id for site in moderator.sites]))
    newest = db.session.scalar(waiting.with_only_columns(db.func.max(Comment.id)))
    if newest is None:
        return False
    total = db.session.scalar(waiting.with_only_columns(db.func.count(Comment.id))) or 0
    # Another sender may be announcing the same comments: only the one that moves the mark sends.
    moved = db.session.execute(
        db.update(Moderator)
        .where(Moderator.id == moderator.id, Moderator.notified_up_to == moderator.notified_up_to)
        .values(notified_up_to=newest)
    ).rowcount
    if not moved:
        return False
    comments = db.session.scalars(waiting.options(selectinload(Comment.thread))
                                  .order_by(Comment.id).limit(DIGEST_MAX)).all()
    items = [{
        "author": c.author_name, "site": c.thread.site.name,
        "article": c.thread.title or c.thread.article_key, "excerpt": _excerpt(c.html),
        "reasons": c.reasons, "page": external_url("mod.moderate.comment", comment_id=c.id),
        "approve": external_url("links.moderation_link",
                                token=moderation_token(moderator, c, "approve")),
        "remove": external_url("links.moderation_link",
                               token=moderation_token(moderator, c, "remove")),
    } for c in comments]
    context = {"items": items, "more": total - len(items),
               "queue": external_url("mod.moderate.queue_page"),
               "account": external_url("mod.admin.account"),
               "hours": current_app.config["MAIL_LINK_MAX_AGE_HOURS"]}
    noun = "comment waits" if total == 1 else "comments wait"
    outbox.enqueue(moderator.email, f"{total} {noun} for moderation",
                 render_template("mail/digest.txt", **context),
                 render_template("mail/digest.html", **context))
    return True


def _excerpt(html: str) -> str:
    """The start of a comment on one line, its link addresses shown: what a moderator judges by."""
    text = " ".join(plain_text(html).split())
    return text if len(text) <= EXCERPT_MAX else text[:EXCERPT_MAX - 1].rstrip() + "…"


def set_queue_emails(moderator: Moderator, enabled: bool) -> None:
    """Turn a moderator's queue emails on or off; once on, they announce comments from now on."""
    if enabled and not moderator.notify_queue:
        moderator.notified_up_to = db.session.scalar(db.select(db.func.max(Comment.id))) or 0
    moderator.notify_queue = enabled
    db.session.commit()


class _PlainText(HTMLParser):
    """Collect sanitized HTML as plain text: paragraphs kept, every link's address written out."""

    def __init__(self) -> None:
        """Start with no text."""
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []
        self.in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a line or a paragraph, or remember where a link's label starts."""
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            self.in_pre = self.in_pre or tag == "pre"
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        """Close a paragraph, or write a link's address after its label."""
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and label not in (href, href.removeprefix("mailto:")):
                self.parts.append(f" ({href})")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            self.in_pre = self.in_pre and tag != "pre"

    def handle_data(self, data: str) -> None:
        """Keep text; outside code blocks a run of whitespace is one space, as browsers show it."""
        if not self.in_pre:
            data = re.sub(r"\s+", " ", data)
            if not self.parts or self.parts[-1].endswith(("\n", "- ")):
                data = data.lstrip()
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Sanitized comment HTML as plain text, links written as "label (URL)": nothing to click on."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = "\n".join(line.rstrip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", lines).strip()
