"""Rate-limit strings read from settings, and the keys they count by."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request, session
from flask_limiter import RequestLimit
from werkzeug.exceptions import TooManyRequests

from .bodies import cached_json
from .extensions import limiter
from .security import address_key, client_ip


def _setting(name: str) -> str:
    return current_app.config[name]


def post_ip() -> str:
    """Comments one client address may post."""
    return _setting("RATELIMIT_POST")


def post_email() -> str:
    """Comments one author email may post, from any address."""
    return _setting("RATELIMIT_POST_EMAIL")


def post_thread() -> str:
    """Comments one thread takes from everyone together: a brake on pile-ons."""
    return _setting("RATELIMIT_POST_THREAD")


def report() -> str:
    """Reports one client address may file."""
    return _setting("RATELIMIT_REPORT")


def vote() -> str:
    """Votes one client address may cast."""
    return _setting("RATELIMIT_VOTE")


def login_ip() -> str:
    """Failed moderator logins allowed per client address."""
    return _setting("RATELIMIT_LOGIN_IP")


def login_account() -> str:
    """Failed moderator logins allowed per account from one client address."""
    return _setting("RATELIMIT_LOGIN_ACCOUNT")


def login_account_global() -> str:
    """Failed moderator logins allowed per account from every address together: a ceiling."""
    return _setting("RATELIMIT_LOGIN_ACCOUNT_GLOBAL")


def ip_key() -> str:
    """Count by client address (after the configured proxies), an IPv6 one by its /64."""
    return address_key(client_ip())


def _author_email() -> str:
    author = cached_json().get("author")
    email = author.get("email") if isinstance(author, dict) else None
    return email.strip().lower()[:254] if isinstance(email, str) else ""


def email_key() -> str:
    """Count by the author email a post gives."""
    return "email:" + _author_email()


def no_email() -> bool:
    """Posts without an email are not counted per email (they are per address)."""
    return not _author_email()


def thread_key() -> str:
    """Count by the thread a post goes to."""
    body = cached_json()
    site, article = body.get("site"), body.get("article")
    return f"thread:{site if isinstance(site, str) else ''}:{article if isinstance(article, str) else ''}"[:600]


def login_email_key() -> str:
    """Count by the account a login names, whatever address it comes from."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def login_pair_key() -> str:
    """Count by the account a login names and the address it comes from, so failures from one
    address do not lock the account's owner out everywhere else."""
    return f"{login_email_key()}|{ip_key()}"


def session_account_key() -> str:
    """Count by the signed-in account (the session's; refused later when it is not valid)."""
    return f"account:{session.get('moderator_id', '')}"


def failed(response: Response) -> bool:
    """Only refusals count against a login limit."""
    return response.status_code == 401


def spent_by_the_view(_response: Response) -> bool:
    """The limiter only tests a limit marked with this; `spend_in_order` spends it."""
    return False


View = TypeVar("View", bound=Callable[..., Any])


def spend_in_order(*keys: Callable[[], str]) -> Callable[[View], View]:
    """Spend the request's limits, narrowest key first, once the limiter has tested them all.

    The limiter evaluates limits by window length and spends each as it goes, so a request that
    one limit refuses would already have spent the others (one address could fill a thread's
    limit with posts its own limit refused). Marked `deduct_when=spent_by_the_view`, the limiter
    only tests them: a refusal spends nothing. Then each is spent here, atomically, so concurrent
    requests cannot overshoot; one that loses such a race has spent only the narrower keys' limits.
    """
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def spending(*args: Any, **kwargs: Any) -> Any:
            _spend([key() for key in keys])
            return view(*args, **kwargs)
        return spending  # type: ignore[return-value]
    return decorate


def _spend(order: list[str]) -> None:
    def rank(tested: RequestLimit) -> int:
        return next((i for i, key in enumerate(order) if key in tested.request_args), len(order))

    for tested in sorted(limiter.current_limits, key=rank):
        try:
            spent = limiter.limiter.hit(tested.limit, *tested.request_args)
        except Exception:
            # The storage failed between the test and the spending: do as the limiter would.
            if not current_app.config["RATELIMIT_SWALLOW_ERRORS"]:
                raise
            current_app.logger.exception("Failed to spend a rate limit. Swallowing error")
            return
        if not spent:
            wait = int(limiter.limiter.get_window_stats(tested.limit, *tested.request_args)
                       .reset_time - time.time()) + 1
            raise TooManyRequests(str(tested.limit), retry_after=max(1, wait))


def reset_as_seconds(response: Response) -> Response:
    """RateLimit-Reset in seconds from now, as the header's specification has it (not an epoch)."""
    reset = response.headers.get("RateLimit-Reset")
    if reset and reset.isdigit():
        # The same arithmetic as the limiter's Retry-After, so the two agree.
        response.headers["RateLimit-Reset"] = str(max(0, int(int(reset) - time.time())))
    return response


def init_app(app: Flask) -> None:
    """Rewrite the limiter's headers; bound before the limiter, as Flask runs these in reverse."""
    app.after_request(reset_as_seconds)
