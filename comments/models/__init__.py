"""Every model in one namespace, for Alembic and for `from comments.models import Comment`."""
from .moderation import ApiToken, AuditEntry, Ban, Moderator, Role, moderator_sites
from .site import Moderation, Site
from .thread import Comment, CommentStatus, Thread, utcnow

__all__ = ["ApiToken", "AuditEntry", "Ban", "Comment", "CommentStatus", "Moderation", "Moderator",
           "Role", "Site", "Thread", "moderator_sites", "utcnow"]
