"""A comment's author as the admin pages see them: who they are on the site, and their data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Forbidden
from ..extensions import db
from ..models import AuditEntry, Comment, Moderator, Site
from . import privacy
from .moderation import get_comment


@dataclass(frozen=True)
class Reader:
    """A comment's author on its site: by single sign-on identity, else email, else that comment."""

    comment: Comment
    site: Site
    kind: privacy.Kind
    who: str


def of_comment(moderator: Moderator, comment_id: int) -> Reader:
    """The author of a comment, for an admin only: their data is no moderator's to hand out."""
    if not moderator.is_admin:
        raise Forbidden("Only an admin may export or forget a reader's data.")
    comment = get_comment(moderator, comment_id)
    if comment.sso_id:
        return Reader(comment, comment.thread.site, "sso", comment.sso_id)
    if comment.author_email:
        return Reader(comment, comment.thread.site, "email", comment.author_email)
    return Reader(comment, comment.thread.site, "comment", str(comment.id))


def statuses(reader: Reader) -> dict[str, int]:
    """How many of the reader's comments on the site are in each status."""
    return privacy.statuses(reader.who, reader.site, reader.kind)


def export(actor: Moderator, reader: Reader) -> dict[str, Any]:
    """Everything stored about the reader on the site, logged (without whom it was about)."""
    comments = list(privacy.export_author(reader.who, reader.site, kind=reader.kind))
    db.session.add(AuditEntry(moderator_id=actor.id, site_id=reader.site.id, action="reader_export",
                              detail={"by": reader.kind, "comments": len(comments)}))
    db.session.commit()
    return {"author": None if reader.kind == "comment" else reader.who, "by": reader.kind,
            "site": reader.site.slug, "comments": comments}


def preview(reader: Reader, delete_rows: bool) -> privacy.Erasure:
    """What forgetting the reader on the site would touch; changes nothing."""
    return privacy.preview(reader.who, reader.site, delete_rows=delete_rows, kind=reader.kind)


def forget(actor: Moderator, reader: Reader, delete_rows: bool,
           expect: tuple[int, int]) -> privacy.Erasure:
    """Forget the reader on the site, logged as the admin's doing, if it is what they confirmed."""
    return privacy.forget(reader.who, reader.site, delete_rows=delete_rows, kind=reader.kind,
                          actor=actor, expect=expect)
