"""Every model in one namespace, for Alembic and for `from comments.models import Comment`."""
from .site import Moderation, Site
from .thread import Comment, CommentStatus, Thread, utcnow

__all__ = ["Comment", "CommentStatus", "Moderation", "Site", "Thread", "utcnow"]
