"""Every model in one namespace, for Alembic and for `from comments.models import Comment`."""
from .moderation import ApiToken, AuditEntry, Ban, LabelledExample, Moderator, Role, moderator_sites
from .reader import Report
from .site import SETTINGS, Moderation, Site
from .thread import Comment, CommentStatus, Thread, utcnow

__all__ = ["ApiToken", "AuditEntry", "Ban", "Comment", "CommentStatus", "LabelledExample",
           "Moderation", "Moderator", "Report", "Role", "SETTINGS", "Site", "Thread", "moderator_sites", "utcnow"]
