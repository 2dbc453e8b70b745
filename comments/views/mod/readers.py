"""A reader's data from the admin pages: their export, forgetting them, and the address purge."""
from __future__ import annotations

import json

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template,
                   request, url_for)

from ...services import privacy, readers
from .admin import admin_required

bp = Blueprint("readers", __name__)


def _delete_rows() -> bool:
    return request.form.get("delete_rows") == "on"


def _expect() -> tuple[int, int]:
    """The comments and queued mails the confirmation page showed, as "N:M"."""
    parts = request.form.get("expect", "").split(":")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        abort(400, "The confirmation is incomplete: start again from the reader's page.")
    return int(parts[0]), int(parts[1])


@bp.get("/comments/<id:comment_id>/reader")
@admin_required
def reader_page(comment_id: int) -> str:
    """Who wrote a comment, their comments on its site by status, and what may be done."""
    reader = readers.of_comment(g.moderator, comment_id)
    return render_template("mod/reader.html", reader=reader, counts=readers.statuses(reader))


@bp.post("/comments/<id:comment_id>/reader/export")
@admin_required
def reader_export(comment_id: int) -> Response:
    """Everything stored about the reader on the site, as a JSON download (a POST: no link starts it)."""
    data = readers.export(g.moderator, readers.of_comment(g.moderator, comment_id))
    response = Response(json.dumps(data, ensure_ascii=False, indent=2),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=reader-{data['site']}-comment-{comment_id}.json")
    return response


@bp.post("/comments/<id:comment_id>/reader/forget")
@admin_required
def reader_forget(comment_id: int) -> str | Response:
    """First show exactly what forgetting the reader would do; with the confirmation, do it."""
    reader = readers.of_comment(g.moderator, comment_id)
    if request.form.get("confirm") != "yes":
        return render_template("mod/reader_forget.html", reader=reader,
                               plan=readers.preview(reader, _delete_rows()))
    done = readers.forget(g.moderator, reader, _delete_rows(), _expect())
    flash(f"Forgot the reader on {reader.site.name}: {done.comments} comment"
          f"{'' if done.comments == 1 else 's'} erased, {done.mails} queued email"
          f"{'' if done.mails == 1 else 's'} dropped.")
    return redirect(url_for("mod.moderate.comments", site=reader.site.slug))


@bp.get("/privacy")
@admin_required
def privacy_page() -> str:
    """How long addresses are kept, and the button that erases the older ones now."""
    return render_template("mod/privacy.html", days=current_app.config["IP_RETENTION_DAYS"])


@bp.post("/privacy/purge")
@admin_required
def purge() -> Response:
    """Run the retention purge now, as `comments purge` does, and say how many addresses went."""
    days = current_app.config["IP_RETENTION_DAYS"]
    erased = privacy.purge_addresses(days, actor=g.moderator)
    flash(f"Erased the address of {erased} comment{'' if erased == 1 else 's'} older than {days} days.")
    return redirect(url_for("mod.readers.privacy_page"))
