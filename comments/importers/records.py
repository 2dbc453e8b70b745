"""What every reader yields: threads, comments, problems; and what an import run reports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import CommentStatus

# Problems kept for the report; past this many only their number grows.
MAX_PROBLEMS = 10_000


class ImportFailed(Exception):
    """The file cannot be imported at all (wrong format, damaged, cut short): nothing is written."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ThreadRecord:
    """One article of the source; `key` is what the widget sends as the article (None: unknown)."""

    source_id: str
    key: str | None
    url: str | None = None
    title: str | None = None
    created: datetime | None = None
    closed: bool = False
    # When it was closed, if the source says (else the time of the import).
    closed_at: datetime | None = None
    line: int | None = None


@dataclass(frozen=True)
class CommentRecord:
    """One comment of the source.

    `source_id` names it in the file (parents refer to it); `import_key` is what is stored to
    recognise it on a later run: the source id with the source's tag (values.source_tag), or the
    key the file carries (the source id when neither is set). `html` is the
    body as unsanitized HTML; when it is None, `text` is Markdown and is rendered like a post.
    """

    source_id: str
    thread_source_id: str
    parent_source_id: str | None
    author_name: str
    author_email: str | None
    author_website: str | None
    created: datetime
    status: CommentStatus
    text: str
    html: str | None
    client_ip: str | None = None
    edited: datetime | None = None
    score: int = 0
    featured: bool = False
    notify_replies: bool = False
    line: int | None = None
    import_key: str | None = None
    # Where a comment of our own export was posted: (site slug, comment id). Imported into that
    # site again, it is the comment already there (when the creation time agrees, too).
    origin: tuple[str, int] | None = None
    # The key this comment was stored under before keys named their source ("isso:7"): a row
    # with it is this comment when the creation time agrees too, and is given the new key.
    legacy_key: str | None = None
    # Further Comment columns carried over as they are (the JSON export's moderation data).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Something wrong with one record: `skipped` when the record was left out because of it."""

    line: int | None
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Pingback:
    """A pingback or trackback: not a reader's comment, so counted and left out."""

    line: int | None


Record = ThreadRecord | CommentRecord | Problem | Pingback


@dataclass
class Summary:
    """What an import did: `threads` read from the file, `comments` written, the rest left out."""

    threads: int = 0
    comments: int = 0
    skipped: int = 0
    pingbacks: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    dry_run: bool = False

    def add(self, problem: Problem) -> None:
        """Record a problem (and a skipped record when it was left out)."""
        self.skipped += problem.skipped
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def __str__(self) -> str:
        return (f"threads: {self.threads}, comments: {self.comments}, skipped: {self.skipped}, "
                f"pingbacks: {self.pingbacks}, already imported: {self.already}")
