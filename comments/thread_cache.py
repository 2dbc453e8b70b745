"""Rendered thread pages and the look-ups that lead to them, kept in each worker's memory.

A page is keyed by its thread's id, creation time and version, and by the page asked for (sort,
size, cursor, branch, replies kept per top-level comment). Every write that changes what readers
see bumps the thread's version in the database. A look-up (a site and its thread, or a site's
counts) is kept until a write names its site or thread on the invalidation channel
(comments/invalidation.py); while that channel is not live, every read looks the version up in the
database. When a newer version of a thread is stored, the older ones are dropped; beyond that, the
least recently used pages go first once the cache holds `THREAD_CACHE_MB` of pages. 0 turns it off.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from flask import Flask, current_app

EXTENSION = "comments.thread_cache"
LOOKUPS = "comments.thread_cache.lookups"
# Look-ups a worker keeps (a few hundred bytes each): readers choose the article names.
MAX_LOOKUPS = 20_000

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


class Lookups:
    """Read results kept until a write names their site or thread; an LRU of MAX_LOOKUPS."""

    def __init__(self) -> None:
        self.seq = 0  # moves with every drop: a read that saw it move stores nothing
        self._entries: OrderedDict[Hashable, tuple[int, tuple[int, ...], Any]] = OrderedDict()
        # Which kept keys each site and each thread made: a drop touches only those.
        self._sites: dict[int, set[Hashable]] = {}
        self._threads: dict[int, set[Hashable]] = {}
        self._lock = threading.Lock()

    def fetch(self, key: Hashable, load: Callable[[], Any],
              scope: Callable[[Any], tuple[int, Iterable[int]]]) -> Any:
        """The kept result of `key`, else `load()`'s, kept under its (site id, thread ids)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[2]
            seq = self.seq
        value = load()
        site, threads = scope(value)
        with self._lock:
            # A write heard while loading may be newer than what was loaded.
            if seq == self.seq and key not in self._entries:
                self._entries[key] = (site, tuple(threads), value)
                self._sites.setdefault(site, set()).add(key)
                for thread in threads:
                    self._threads.setdefault(thread, set()).add(key)
                if len(self._entries) > MAX_LOOKUPS:
                    self._forget(next(iter(self._entries)))
        return value

    def drop(self, sites: Iterable[int], threads: Iterable[int]) -> None:
        """Forget what these sites or threads made stale."""
        with self._lock:
            self.seq += 1
            keys: set[Hashable] = set()
            for site in sites:
                keys |= self._sites.get(site, set())
            for thread in threads:
                keys |= self._threads.get(thread, set())
            for key in keys:
                self._forget(key)

    def clear(self) -> None:
        """Forget everything (a missed message may have named anything)."""
        with self._lock:
            self.seq += 1
            self._entries.clear()
            self._sites.clear()
            self._threads.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _forget(self, key: Hashable) -> None:
        site, threads, _ = self._entries.pop(key)
        for index, ids in ((self._sites, (site,)), (self._threads, threads)):
            for one in ids:
                keys = index[one]
                keys.discard(key)
                if not keys:
                    del index[one]


def init_app(app: Flask) -> None:
    """One cache per app (so per gunicorn worker)."""
    app.extensions[EXTENSION] = PageCache(int(app.config["THREAD_CACHE_MB"] * 1024 * 1024))
    app.extensions[LOOKUPS] = Lookups()


def current() -> PageCache:
    """The cache of the app handling this request."""
    cache: PageCache = current_app.extensions[EXTENSION]
    return cache


def lookups(app: Flask | None = None) -> Lookups:
    """The kept look-ups of `app`, or of the app handling this request."""
    kept: Lookups = (app or current_app).extensions[LOOKUPS]
    return kept
