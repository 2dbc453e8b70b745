"""Earlier versions of comments: the text each edit replaced, when, and by whom."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .moderation import Moderator
from .thread import utcnow


class Editor(enum.StrEnum):
    """Who made an edit: the comment's author (with the edit token) or a moderator."""

    AUTHOR = "author"
    MODERATOR = "moderator"


class CommentRevision(db.Model):
    """A comment's text as it was before one edit; the comment row always holds the newest."""

    __tablename__ = "comment_revisions"
    __table_args__ = (
        # A comment's versions in the order they were replaced.
        Index("ix_comment_revisions_comment_id_id", "comment_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # The replaced source text and the sanitized HTML that was made of it.
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    editor: Mapped[Editor] = mapped_column(
        Enum(Editor, name="editor", native_enum=False, create_constraint=True, length=16,
             values_callable=lambda e: [m.value for m in e]))
    # The moderator who edited (None for the author, or once that account is gone).
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"))
    # When the edit replaced this text.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    moderator: Mapped[Moderator | None] = relationship(lazy="joined")
