"""Posting a comment: validate, check bans, judge, render once, store in one commit."""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from .. import sanitize, spam
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import Comment, CommentStatus, Moderation, Site, SiteSnapshot, Thread, utcnow
from ..security import address_key
from . import articles, authors, fields, notify, reading, sso, webhooks
from .moderation import active_ban
from .sites import get_site

PRE_MODERATED = "site is pre-moderated"
# A form older than this is no evidence of anything: treat its token as missing.
FORM_TOKEN_MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class Draft:
    """A validated comment, not yet stored."""

    site: Site
    article: str
    url: str | None
    title: str | None
    parent_id: int | None
    name: str
    email: str | None
    website: str | None
    text: str
    honeypot: str | None
    form_token: str | None
    sso_id: str | None = None
    avatar: str | None = None
    notify: bool = False


@dataclass(frozen=True)
class Posted:
    """A stored comment and the edit token only its poster gets."""

    comment: Comment
    edit_token: str

    @property
    def public_status(self) -> str:
        """What the poster is told: spam is only ever "pending", so bots learn nothing."""
        status = self.comment.status
        return "pending" if status is CommentStatus.SPAM else status.value


def hash_token(token: str) -> str:
    """The stored form of an edit token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _form_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="form-token")


# The token of each site for the current second (its timestamp's resolution): every read within a
# second gets the same bytes anyway, so a busy thread signs once a second, not once a read.
_tokens: dict[tuple[str, str, int], str] = {}


def form_token(site: Site | SiteSnapshot) -> str:
    """A signed, timestamped token the widget gets with the thread and sends back with a post."""
    key = (current_app.secret_key, site.slug, int(time.time()))
    token = _tokens.get(key)
    if token is None:
        if len(_tokens) > 256:
            _tokens.clear()
        token = _tokens[key] = _form_serializer().dumps(site.slug)
    return token


def _elapsed(token: str | None, site: Site) -> tuple[str, float | None]:
    """("ok", seconds since the form loaded), or ("missing" | "invalid", None)."""
    if not token:
        return "missing", None
    try:
        slug, signed_at = _form_serializer().loads(token, max_age=FORM_TOKEN_MAX_AGE,
                                                   return_timestamp=True)
    except SignatureExpired:
        return "missing", None
    except BadSignature:
        return "invalid", None
    if slug != site.slug:
        return "invalid", None
    return "ok", (utcnow() - signed_at.replace(tzinfo=None)).total_seconds()


def validate(payload: Mapping[str, Any], site: Site | None = None) -> Draft:
    """Check every field of a posted comment (of `site`, when the caller has looked it up);
    raises NotFound or Invalid naming the field."""
    cfg = current_app.config
    slug = fields.string(payload, "site", "site", max_len=64, required=True)
    if site is None or site.slug != slug:
        site = get_site(slug)
    url, title = articles.from_post(payload, site)
    author = fields.mapping(payload, "author", "author")
    identity = sso.verify(site, payload["sso"]) if payload.get("sso") is not None else None
    if identity is not None:
        # A signed-in reader's name and email come from the site, not from the form.
        author = {**author, "name": identity.name, "email": identity.email}
    email = fields.email(author, "email", "author.email")
    return Draft(
        site=site,
        article=fields.string(payload, "article", "article", max_len=512, required=True) or "",
        url=url,
        title=title,
        parent_id=fields.object_id(payload, "parent_id", "parent_id"),
        name=fields.string(author, "name", "author.name", max_len=cfg["MAX_NAME_LENGTH"],
                           required=True) or "",
        email=email,
        website=fields.web_url(author, "website", "author.website"),
        text=fields.string(payload, "text", "text", max_len=cfg["MAX_TEXT_LENGTH"], required=True,
                           multiline=True) or "",
        honeypot=_loose_string(payload.get("homepage")),
        form_token=_loose_string(payload.get("form_token")),
        sso_id=identity.sub if identity else None,
        avatar=identity.avatar if identity else None,
        notify=_wants_replies(payload.get("notify"), email),
    )


def _wants_replies(value: object, email: str | None) -> bool:
    """The reader's "email me when someone replies": true or false, and true only with an email."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Invalid("'notify' must be true or false.", "notify")
    if value and not email:
        raise Invalid("Give an email address to be told of replies.", "notify")
    return value


def _loose_string(value: object) -> str | None:
    """A bot-facing field: any non-string is as good as absent, and length is capped."""
    return value[:2000] if isinstance(value, str) else None


def post_comment(payload: Mapping[str, Any], client_ip: str, reader_key: str | None = None,
                 site: Site | None = None) -> Posted:
    """Validate, judge and store a new comment; nothing is stored when it is refused."""
    draft = validate(payload, site)
    thread = reading.find_thread(draft.site, draft.article)
    if reading.is_closed(thread):
        raise Forbidden("Comments are closed on this article.", code="thread_closed")
    ban = active_ban(draft.site.id, draft.email, client_ip, draft.sso_id)
    if ban is not None:
        until = f" until {ban.expires_at:%Y-%m-%d %H:%M} UTC" if ban.expires_at else ""
        because = f" Reason: {ban.reason}" if ban.reason else ""
        raise Forbidden(f"You are banned from commenting on this site{until}.{because}",
                        code="banned")
    html = sanitize.render(draft.text)
    reader = authors.reader_hash(reader_key)
    # A concurrent first comment may create the thread under us: the unique key settles it, retry once.
    for attempt in (1, 2):
        try:
            return _store(draft, html, client_ip, reader, thread)
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
            thread = reading.find_thread(draft.site, draft.article)
    raise AssertionError("unreachable")


Judgement = tuple[CommentStatus, list[str], spam.Verdict | None]


def _verdict(site: Site, candidate: spam.Candidate, facts: spam.Facts) -> Judgement:
    """The filter's decision: held or kept with its reasons, or approved as far as it goes."""
    verdict = spam.assess(candidate, facts, policy(site))
    if verdict.action == "spam":
        return CommentStatus.SPAM, verdict.reasons, verdict
    if verdict.action == "hold":
        return CommentStatus.PENDING, verdict.reasons, verdict
    return CommentStatus.APPROVED, [], verdict


def _judge(draft: Draft, html: str, thread: Thread | None, client_ip: str,
           reader: str | None, digest: str) -> Judgement:
    """The comment's status, the reasons a moderator will see, and the filter's verdict."""
    site = draft.site
    verdict = None
    if current_app.config["SPAM_ENABLED"]:
        token_state, elapsed = _elapsed(draft.form_token, site)
        candidate = spam.Candidate(text=draft.text, html=html, name=draft.name, email=draft.email,
                                   website=draft.website, honeypot=draft.honeypot,
                                   elapsed=elapsed, token=token_state)
        facts = authors.facts(site, thread.id if thread else None, digest, reader, draft.email,
                              client_ip, identity=draft.sso_id)
        status, reasons, verdict = _verdict(site, candidate, facts)
        if status is not CommentStatus.APPROVED:
            return status, reasons, verdict
    if site.moderation is Moderation.PRE and not (
            site.setting("trusted_skip_premoderation")
            and authors.is_trusted(site, reader, draft.sso_id)):
        return CommentStatus.PENDING, [PRE_MODERATED], verdict
    return CommentStatus.APPROVED, [], verdict


def judge_text(comment: Comment, text: str, html: str, client_ip: str,
               reader: str | None) -> Judgement:
    """The filter's view of an edited text (the timing rule does not apply to edits)."""
    if not current_app.config["SPAM_ENABLED"]:
        return CommentStatus.APPROVED, [], None
    site = comment.thread.site
    candidate = spam.Candidate(text=text, html=html, name=comment.author_name,
                               email=comment.author_email, website=comment.author_website,
                               honeypot=None, elapsed=None, token="edit")
    digest = authors.text_hash(text)
    facts = authors.facts(site, comment.thread_id, digest, reader, comment.author_email, client_ip,
                          exclude=comment.id, identity=comment.sso_id)
    return _verdict(site, candidate, facts)


def policy(site: Site) -> spam.Policy:
    """A site's spam settings as the filter reads them."""
    return spam.Policy(
        hold_score=site.setting("hold_score"), spam_score=site.setting("spam_score"),
        max_links=site.setting("max_links"), blocked_words=tuple(site.setting("blocked_words")),
        blocked_domains=tuple(site.setting("blocked_domains")),
        hold_first_time=site.setting("hold_first_time"), min_seconds=site.setting("min_seconds"),
    )


def _store(draft: Draft, html: str, client_ip: str, reader: str | None,
           thread: Thread | None) -> Posted:
    parent = _parent(draft, thread)
    digest = authors.text_hash(draft.text)
    status, reasons, verdict = _judge(draft, html, thread, client_ip, reader, digest)
    if thread is None:
        thread = Thread(site_id=draft.site.id, article_key=draft.article, url=draft.url,
                        title=draft.title, comment_count=0, version=0)
        db.session.add(thread)
        db.session.flush()
    elif status is not CommentStatus.SPAM:
        # The latest post from the article's page names it; a spammer's does not.
        articles.observe(thread, draft.url, draft.title)
    token = secrets.token_urlsafe(32)
    comment = Comment(
        thread_id=thread.id, site_id=draft.site.id, parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        root_id=(parent.root_id or parent.id) if parent else None, author_name=draft.name,
        author_email=draft.email, author_website=draft.website, text=draft.text, html=html,
        status=status, reasons=reasons, verdict=verdict.as_json() if verdict else None,
        client_ip=client_ip, client_net=address_key(client_ip), edit_token_hash=hash_token(token),
        reader_hash=reader,
        sso_id=draft.sso_id, author_avatar=draft.avatar,
        text_hash=digest, notify_replies=draft.notify,
    )
    db.session.add(comment)
    # Increments in SQL, so concurrent writers never lose a count.
    thread.version = Thread.version + 1
    if status is CommentStatus.APPROVED:
        thread.comment_count = Thread.comment_count + 1
        if parent is not None:
            notify.reply_published(comment)
    webhooks.emit(comment, "comment.created",
                  *(["comment.queued"] if status is CommentStatus.PENDING else []))
    db.session.commit()
    return Posted(comment=comment, edit_token=token)


def _parent(draft: Draft, thread: Thread | None) -> Comment | None:
    """The comment replied to: it must exist, be published and belong to the same thread."""
    if draft.parent_id is None:
        return None
    parent = db.session.get(Comment, draft.parent_id)
    if parent is None:
        raise NotFound("The comment you are replying to does not exist.", "parent_id")
    if thread is None or parent.thread_id != thread.id:
        raise Invalid("The comment you are replying to is under another article.", "parent_id")
    if parent.status is not CommentStatus.APPROVED:
        raise Invalid("The comment you are replying to is not published.", "parent_id")
    # Past the deepest nesting we keep, a reply joins its parent's level instead of going deeper.
    if parent.depth + 1 > current_app.config["MAX_DEPTH"] and parent.parent_id is not None:
        return db.session.get(Comment, parent.parent_id)
    return parent
