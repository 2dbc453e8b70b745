"""Rendered thread pages, kept in each worker's memory.

A page is keyed by its thread's id, creation time and version, and by the page asked for (sort,
size, cursor, branch, replies kept per top-level comment). Every write that changes what readers
see bumps the thread's version in the database, and every read looks the version up there (the
one query of a cached read), so a worker never serves a page older than the last write, whichever
worker or machine made it. When a newer version of a thread is stored, the older ones are
dropped; beyond that, the least recently used pages go first once the cache holds
`THREAD_CACHE_MB` of pages. 0 turns it off.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import Flask, current_app

EXTENSION = "comments.thread_cache"

# (thread id, thread created_at, thread version): a thread id alone could come back after a purge.
ThreadKey = tuple[int, object, int]


class PageCache:
    """A byte-bounded LRU of rendered pages; safe to share between a worker's threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._pages: OrderedDict[tuple[ThreadKey, Hashable], bytes] = OrderedDict()
        # Per thread id: the version whose pages are stored, and which pages those are.
        self._threads: dict[int, tuple[ThreadKey, set[Hashable]]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the operator turned the cache off (THREAD_CACHE_MB = 0)."""
        return self.max_bytes > 0

    def get(self, thread: ThreadKey, page: Hashable) -> bytes | None:
        """The stored page of this version of the thread, if any."""
        with self._lock:
            found = self._pages.get((thread, page))
            if found is not None:
                self._pages.move_to_end((thread, page))
            return found

    def put(self, thread: ThreadKey, page: Hashable, body: bytes) -> None:
        """Store a page, dropping the thread's older version and then the least recently used."""
        if len(body) > self.max_bytes:
            return
        with self._lock:
            stored = self._threads.get(thread[0])
            if stored is not None and stored[0] != thread:
                if stored[0][1:] > thread[1:]:
                    return  # a slow render of an older version: the newer one stays
                for old in stored[1]:
                    self.size -= len(self._pages.pop((stored[0], old)))
                stored = None
            if stored is None:
                stored = self._threads[thread[0]] = (thread, set())
            previous = self._pages.pop((thread, page), None)
            self.size += len(body) - (len(previous) if previous is not None else 0)
            self._pages[(thread, page)] = body
            stored[1].add(page)
            while self.size > self.max_bytes:
                (evicted, evicted_page), dropped = self._pages.popitem(last=False)
                self.size -= len(dropped)
                pages = self._threads[evicted[0]][1]
                pages.discard(evicted_page)
                if not pages:
                    del self._threads[evicted[0]]


def init_app(app: Flask) -> None:
    """One cache per app (so per gunicorn worker)."""
    app.extensions[EXTENSION] = PageCache(int(app.config["THREAD_CACHE_MB"] * 1024 * 1024))


def current() -> PageCache:
    """The cache of the app handling this request."""
    cache: PageCache = current_app.extensions[EXTENSION]
    return cache
