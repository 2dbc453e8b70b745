"""Health checks: does the database answer, and Redis when one is configured, within a deadline."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine

T = TypeVar("T")
# Seconds each part may take: a load balancer's check must get an answer, not a hang.
TIMEOUT = 2.0
OK, NOT_CONFIGURED, ERROR, TIMED_OUT = "ok", "not configured", "error", "timeout"

log = logging.getLogger(__name__)


def within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, or TimeoutError after `seconds`.

    The call runs in a daemon thread, so a connection that never completes (a silent host, a
    stuck DNS look-up) is left to its driver's own timeout instead of holding the request.
    """
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed back to the caller's thread
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="comments-deadline", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise TimeoutError(f"no answer within {seconds} s")
    done, value = outcome[0]
    if not done:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


def _ping_database(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _ping_redis(url: str) -> None:
    import redis  # only where Redis is configured

    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.ping()
    except redis.TimeoutError as exc:
        raise TimeoutError(str(exc)) from exc
    finally:
        client.close()


def _part(name: str, call: Callable[[], None]) -> str:
    """One part's state; the reason goes to the log, never to the (public) answer."""
    try:
        within(TIMEOUT, call)
    except TimeoutError:
        log.warning("health check: %s did not answer within %s s", name, TIMEOUT)
        return TIMED_OUT
    except Exception as exc:
        log.warning("health check: %s failed: %s: %s", name, type(exc).__name__, exc)
        return ERROR
    return OK


def check(engine: Engine, redis_url: str | None) -> dict[str, str]:
    """The state of each part: "ok", "error", "timeout", or "not configured" (Redis only)."""
    return {
        "database": _part("database", lambda: _ping_database(engine)),
        "redis": _part("redis", lambda: _ping_redis(redis_url)) if redis_url else NOT_CONFIGURED,
    }


def healthy(parts: dict[str, str]) -> bool:
    """Whether every configured part answered."""
    return all(state in (OK, NOT_CONFIGURED) for state in parts.values())
