"""An author's own changes: editing and deleting within the site's window, with the edit token."""
from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app

from .. import sanitize
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import (AuditEntry, Comment, CommentRevision, CommentStatus, Editor, Moderation,
                      utcnow)
from . import authors, fields, webhooks
from .moderation import bump_threads
from .posting import Judgement, hash_token, judge_text

EDITABLE = (CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.SPAM)
EDITED_AFTER_APPROVAL = "edited after approval"


def owned(comment_id: int, token: str | None) -> Comment:
    """The comment whose edit token this is; 404 when absent, 403 for another comment's token."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status is CommentStatus.DELETED:
        raise NotFound("There is no such comment.", "comment")
    if not token or not comment.edit_token_hash or not hmac.compare_digest(
            hash_token(token), comment.edit_token_hash):
        raise Forbidden("This edit token does not belong to this comment.", code="wrong_token")
    return comment


def _open(comment: Comment) -> None:
    """Refuse once the site's edit window has passed, or after a moderator removed it."""
    if comment.status not in EDITABLE:
        raise Forbidden("A moderator removed this comment; it can no longer be changed.",
                        code="removed")
    minutes = comment.thread.site.setting("edit_window_minutes")
    if comment.created_at + timedelta(minutes=minutes) <= utcnow():
        unit = "minute" if minutes == 1 else "minutes"
        raise Forbidden(f"Comments can be changed for {minutes} {unit} after posting; "
                        f"that time has passed.", code="edit_window_closed")


def _decide(comment: Comment, text: str, html: str, client_ip: str,
            reader_key: str | None) -> Judgement:
    """The edited comment's status, the reasons it waits (if it does), and the filter's verdict."""
    before = comment.status
    status, reasons, verdict = judge_text(comment, text, html, client_ip,
                                          authors.reader_hash(reader_key))
    # An edit the filter objects to goes back to the queue for a person to judge; and an edit
    # never publishes what a moderator has not seen: held stays held.
    if status is CommentStatus.SPAM:
        status = CommentStatus.SPAM if before is CommentStatus.SPAM else CommentStatus.PENDING
    if before is not CommentStatus.APPROVED and status is CommentStatus.APPROVED:
        status = before
    # On a pre-moderated site the moderator approved the old text, not this one.
    if status is CommentStatus.APPROVED and comment.thread.site.moderation is Moderation.PRE:
        status, reasons = CommentStatus.PENDING, []
    if status is CommentStatus.APPROVED:
        return status, [], verdict
    reasons = [f"after an edit: {r}" for r in reasons]
    if before is CommentStatus.APPROVED:
        reasons.insert(0, EDITED_AFTER_APPROVAL)
    return status, reasons, verdict


def edit_comment(comment_id: int, token: str | None, payload: Mapping[str, Any],
                 client_ip: str, reader_key: str | None) -> Comment:
    """Replace a comment's text; it goes through the same sanitizing and spam rules as a post,
    and the replaced text is kept as an earlier version."""
    comment = owned(comment_id, token)
    _open(comment)
    text = fields.string(payload, "text", "text", max_len=current_app.config["MAX_TEXT_LENGTH"],
                         required=True, multiline=True) or ""
    html = sanitize.render(text)
    before, featured = comment.status, comment.featured
    status, reasons, verdict = _decide(comment, text, html, client_ip, reader_key)
    db.session.add(CommentRevision(comment_id=comment.id, text=comment.text, html=comment.html,
                                   editor=Editor.AUTHOR))
    comment.text, comment.html, comment.text_hash = text, html, authors.text_hash(text)
    comment.edited_at = utcnow()
    comment.status = status
    # A moderator featured the old text.
    comment.featured = False
    if verdict is not None:
        comment.verdict = verdict.as_json()
    comment.reasons = [*comment.reasons, *(r for r in reasons if r not in comment.reasons)]
    if status is not before or featured:
        # The log shows why a comment left the thread or its pin; the text's history is in
        # comment_revisions.
        db.session.add(AuditEntry(moderator_id=None, site_id=comment.site_id, comment_id=comment.id,
                                  action="edited_by_author", status_before=before.value,
                                  status_after=status.value, reason="; ".join(reasons),
                                  detail={"unfeatured": True} if featured else {}))
    delta = (status is CommentStatus.APPROVED) - (before is CommentStatus.APPROVED)
    bump_threads({comment.thread_id}, {comment.thread_id: delta})
    if status is not before:
        webhooks.emit_status(comment)
    db.session.commit()
    return comment


def delete_comment(comment_id: int, token: str | None) -> None:
    """Delete an own comment: its text is erased, and a placeholder keeps its replies in place."""
    comment = owned(comment_id, token)
    _open(comment)
    before = comment.status
    comment.status = CommentStatus.DELETED
    comment.text, comment.html, comment.featured = "", "", False
    comment.edited_at = utcnow()
    # Deleting takes back every word of it, earlier versions included.
    db.session.execute(db.delete(CommentRevision).where(CommentRevision.comment_id == comment.id))
    db.session.add(AuditEntry(moderator_id=None, site_id=comment.site_id, comment_id=comment.id,
                              action="deleted_by_author", status_before=before.value,
                              status_after=CommentStatus.DELETED.value, reason="", detail={}))
    delta = -1 if before is CommentStatus.APPROVED else 0
    bump_threads({comment.thread_id}, {comment.thread_id: delta})
    db.session.commit()
