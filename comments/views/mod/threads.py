"""One article's thread: what the site's pages named it, and an admin's fix of its title and address."""
from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from ...services import articles

bp = Blueprint("threads", __name__)


@bp.get("/threads/<id:thread_id>")
def thread_page(thread_id: int) -> str:
    """An article's title, address, state and comments; an admin may fix the title and address."""
    return render_template("mod/thread.html", thread=articles.get_thread(g.moderator, thread_id))


@bp.post("/threads/<id:thread_id>")
def thread_fix(thread_id: int) -> Response:
    """Save an admin's title and address for the article, kept from readers' pages when locked."""
    thread = articles.fix(g.moderator, thread_id, title=request.form.get("title", ""),
                          url=request.form.get("url", ""),
                          locked=request.form.get("locked") == "on")
    flash(f"Saved {thread.title or thread.article_key}.")
    return redirect(url_for("mod.threads.thread_page", thread_id=thread.id))
