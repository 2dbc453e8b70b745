"""Importing other comment systems' exports and our own: readers yield records, `run` writes them.

Each reader module streams one format and yields ThreadRecord, CommentRecord, Problem and
Pingback records; `run` checks the whole file first, then writes through the models.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import commento, disqus, isso, jsonl, wordpress
from .export import export
from .records import (CommentRecord, ImportFailed, Pingback, Problem, Record, Summary,
                      ThreadRecord)
from .source import Progress
from .store import Source, rewrite_url, run

# The formats `comments import FORMAT` reads, by name.
READERS: dict[str, Callable[[str | Path], Source]] = {
    "disqus": disqus.read,
    "wordpress": wordpress.read,
    "isso": isso.read,
    "commento": commento.read,
    "json": jsonl.read,
}

__all__ = ["READERS", "CommentRecord", "ImportFailed", "Pingback", "Problem", "Progress", "Record",
           "Source", "Summary", "ThreadRecord", "export", "rewrite_url", "run"]
