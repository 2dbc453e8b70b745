"""Every model in one namespace, for Alembic and for `from comments.models import Comment`."""
from .moderation import ApiToken, AuditEntry, Ban, LabelledExample, Moderator, Role, moderator_sites
from .outbox import OutboxItem, UsedLink
from .reader import Report, Vote
from .revision import CommentRevision, Editor
from .site import SETTINGS, Moderation, Site, SiteSnapshot
from .thread import Comment, CommentStatus, Thread, ThreadSnapshot, utcnow
from .webhook import EVENTS, Webhook

__all__ = ["EVENTS", "ApiToken", "AuditEntry", "Ban", "Comment", "CommentRevision",
           "CommentStatus", "Editor", "LabelledExample", "Moderation", "Moderator", "OutboxItem",
           "Report", "Role", "SETTINGS", "Site", "SiteSnapshot", "Thread", "ThreadSnapshot",
           "UsedLink", "Vote", "Webhook", "moderator_sites", "utcnow"]
