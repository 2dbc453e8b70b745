"""The spam rules: each looks at a comment and what the database knows, and explains its score.

Pure functions only: no Flask, no queries, no writes. The posting service gathers the facts
(`Facts`) and the site's policy (`Policy`), and stores the `Verdict` with the comment.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

HREF_RE = re.compile(r'<a href="([^"]*)"')
REPEAT_RE = re.compile(r"(.)\1{9,}", re.DOTALL)
WORD_RE = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Candidate:
    """The comment being judged."""

    text: str
    html: str
    name: str
    email: str | None
    website: str | None
    honeypot: str | None
    # Seconds between the form's timing token and the post; None without a valid token.
    elapsed: float | None
    # "ok", "missing" or "invalid": the state of the widget's timing token ("edit" for edits).
    token: str


@dataclass(frozen=True)
class Facts:
    """What the database knows about the comment's author and text."""

    same_text_by_author: int = 0
    same_text_threads: int = 0
    banned_link: str | None = None
    first_time: bool = False


@dataclass(frozen=True)
class Policy:
    """A site's thresholds and lists."""

    hold_score: int = 4
    spam_score: int = 8
    max_links: int = 2
    blocked_words: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    hold_first_time: bool = False
    min_seconds: int = 3


@dataclass(frozen=True)
class Signal:
    """One rule's finding: its name, its score, and the reason in words."""

    rule: str
    score: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The decision: `publish`, `hold` or `spam`, from the total of the signals."""

    action: str
    score: int
    signals: tuple[Signal, ...] = field(default_factory=tuple)

    @property
    def reasons(self) -> list[str]:
        """The signals' reasons, for the moderation queue."""
        return [s.reason for s in self.signals]

    def as_json(self) -> dict[str, Any]:
        """The verdict as stored with the comment."""
        return {"action": self.action, "score": self.score,
                "signals": [asdict(s) for s in self.signals]}


Rule = Callable[[Candidate, Facts, Policy], Signal | None]


def honeypot(c: Candidate, _f: Facts, _p: Policy) -> Signal | None:
    """A field hidden from people was filled in."""
    if c.honeypot:
        return Signal("honeypot", 10, "a hidden field that only bots fill in was filled in")
    return None


def timing(c: Candidate, _f: Facts, p: Policy) -> Signal | None:
    """Posted faster than a person types, or without the widget's timing token."""
    if c.token == "missing":
        return Signal("timing", 1, "posted without the comment form's timing token")
    if c.token == "invalid":
        return Signal("timing", 3, "the form's timing token was forged, expired or from elsewhere")
    if c.elapsed is not None and c.elapsed < p.min_seconds:
        return Signal("timing", 5, f"posted {c.elapsed:.1f} s after the form loaded, "
                                   f"faster than a person types")
    return None


def links(c: Candidate, _f: Facts, p: Policy) -> Signal | None:
    """More links than the site allows."""
    count = len(HREF_RE.findall(c.html))
    if count > p.max_links:
        return Signal("links", 2 * (count - p.max_links),
                      f"{count} links (the site allows {p.max_links})")
    return None


def blocked_words(c: Candidate, _f: Facts, p: Policy) -> Signal | None:
    """A word on the site's blocked list, in the text or the name."""
    words = {w.lower() for w in WORD_RE.findall(f"{c.text} {c.name}")}
    hits = sorted(w for w in p.blocked_words if w.lower() in words)
    if hits:
        return Signal("blocked_words", 5 * len(hits), f"contains blocked words: {', '.join(hits)}")
    return None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def blocked_domains(c: Candidate, _f: Facts, p: Policy) -> Signal | None:
    """A link (or the author's website) to a domain on the site's blocked list."""
    hosts = {_host(u) for u in HREF_RE.findall(c.html)} | ({_host(c.website)} if c.website else set())
    hits = sorted({d for d in p.blocked_domains for h in hosts
                   if h == d.lower() or h.endswith("." + d.lower())})
    if hits:
        return Signal("blocked_domains", 10, f"links to blocked domains: {', '.join(hits)}")
    return None


def duplicates(_c: Candidate, f: Facts, _p: Policy) -> Signal | None:
    """The same text again from the same author, or across several threads."""
    if f.same_text_threads >= 2:
        return Signal("duplicates", 6, f"the same text was posted in {f.same_text_threads} other threads")
    if f.same_text_by_author:
        return Signal("duplicates", 4, "the same author posted this text before")
    return None


def shouting(c: Candidate, _f: Facts, _p: Policy) -> Signal | None:
    """Mostly capitals."""
    letters = [ch for ch in c.text if ch.isalpha()]
    if len(letters) >= 20 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7:
        return Signal("shouting", 2, "written mostly in capitals")
    return None


def repeats(c: Candidate, _f: Facts, _p: Policy) -> Signal | None:
    """A long run of one character."""
    if REPEAT_RE.search(c.text):
        return Signal("repeats", 2, "a long run of one repeated character")
    return None


def banned(_c: Candidate, f: Facts, _p: Policy) -> Signal | None:
    """Posted from the reader key or address of a banned author, under another name."""
    if f.banned_link:
        return Signal("banned", 8, f"posted from the {f.banned_link} of a banned author")
    return None


def first_time(_c: Candidate, f: Facts, p: Policy) -> Signal | None:
    """A first comment on this site, where the site asks to see those."""
    if p.hold_first_time and f.first_time:
        return Signal("first_time", p.hold_score, "first comment by this author on this site")
    return None


RULES: tuple[Rule, ...] = (honeypot, timing, links, blocked_words, blocked_domains, duplicates,
                           shouting, repeats, banned, first_time)


def assess(candidate: Candidate, facts: Facts, policy: Policy) -> Verdict:
    """Run every rule and decide from the total: publish, hold for a moderator, or spam."""
    signals = tuple(s for rule in RULES if (s := rule(candidate, facts, policy)) is not None)
    score = sum(s.score for s in signals)
    if score >= policy.spam_score:
        action = "spam"
    elif score >= policy.hold_score:
        action = "hold"
    else:
        action = "publish"
    return Verdict(action, score, signals)
