"""The site page (every setting, logged) and the editors' overview with its CSV."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import Flask

from comments.extensions import db
from comments.models import AuditEntry, Comment, Site, Thread, utcnow

from .modhelpers import login, post_comment, setup_sites


def test_the_site_page_changes_every_setting_and_logs_it(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    page = client.get("/mod/sites/news").get_data(as_text=True)
    assert "edit_window_minutes" in page and "blocked_words" in page and "Single sign-on" in page
    assert page.count('id="webhooks"') == 1 and "<title>News · Comments</title>" in page
    form = {"csrf_token": token, "full": "1", "name": "The News", "origins": "https://news.example",
            "moderation": "post", "hold_score": "5", "spam_score": "9", "max_links": "1",
            "blocked_words": "casino, Viagra", "blocked_domains": "", "min_seconds": "3",
            "trusted_after": "3", "report_threshold": "2", "edit_window_minutes": "30",
            "auto_close_days": "14", "downvotes": "on", "reported_stay_visible": "on",
            "trusted_skip_premoderation": "on", "show_own_pending": "on"}
    res = client.post("/mod/sites/news", data=form)
    assert res.status_code == 302
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="news"))
        assert site.name == "The News" and site.moderation.value == "post"
        assert site.setting("blocked_words") == ["casino", "viagra"]
        assert site.setting("downvotes") is True and site.setting("hold_first_time") is False
        assert site.setting("edit_window_minutes") == 30
        entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "site_update" and entry.moderator.email == "admin@example.org"
        assert entry.detail["edit_window_minutes"] == [15, 30]
        assert entry.detail["moderation"] == ["pre", "post"]
    bad = client.post("/mod/sites/news", data=form | {"max_links": "many"})
    assert bad.status_code == 422


def test_sso_secret_is_shown_once_and_can_be_turned_off(app: Flask) -> None:
    setup_sites(app)
    client, token = login(app, "admin@example.org")
    page = client.post("/mod/sites/news/sso", data={"csrf_token": token, "action": "rotate"})
    secret = re.search(r'<code id="sso-secret">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    with app.app_context():
        assert db.session.scalar(db.select(Site.sso_secret).filter_by(slug="news")) == secret
    assert secret not in client.get("/mod/sites/news").get_data(as_text=True)
    client.post("/mod/sites/news/sso", data={"csrf_token": token, "action": "off"})
    with app.app_context():
        assert db.session.scalar(db.select(Site.sso_secret).filter_by(slug="news")) is None
    moderator, mtoken = login(app, "newsmod@example.org")
    assert moderator.get("/mod/sites/news").status_code == 403
    assert moderator.post("/mod/sites/news/sso", data={"csrf_token": mtoken}).status_code == 403


def test_overview_counts_outcomes_reasons_and_decision_time(app: Flask) -> None:
    setup_sites(app)
    ids = [post_comment(app, text=f"c{i}") for i in range(4)]
    post_comment(app, "blog", text="elsewhere")
    client, token = login(app, "newsmod@example.org")
    client.post("/mod/actions", data={"csrf_token": token, "one": f"approve:{ids[0]}"})
    client.post("/mod/actions", data={"csrf_token": token, "one": f"spam:{ids[1]}"})
    with app.app_context():
        old = db.session.get(Comment, ids[2])
        old.created_at = utcnow() - timedelta(days=3)
        db.session.commit()
    page = client.get("/mod/overview?site=news")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'class="bar-published"' in html and 'class="bar-spam"' in html
    assert "<script>" not in html and " style=" not in html
    assert "site is pre-moderated" in html
    assert "Article a1" in html
    daily = list(csv.reader(io.StringIO(client.get("/mod/overview.csv?site=news&chart=daily")
                                        .get_data(as_text=True))))
    assert daily[0] == ["day", "published", "held", "removed", "spam"]
    assert len(daily) == 31
    totals = [sum(int(row[i]) for row in daily[1:]) for i in range(1, 5)]
    assert totals == [1, 2, 0, 1]
    reasons = client.get("/mod/overview.csv?site=news&chart=reasons").get_data(as_text=True)
    assert "site is pre-moderated,3" in reasons
    assert client.get("/mod/overview?site=blog").status_code == 403
    assert client.get("/mod/overview.csv?chart=nope").status_code == 400
    # Without a site, a moderator sees their own sites only.
    mine = list(csv.reader(io.StringIO(client.get("/mod/overview.csv?chart=daily").get_data(as_text=True))))
    assert sum(int(row[2]) for row in mine[1:]) == 2


FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def test_overview_csv_cells_a_spreadsheet_would_run_start_with_a_quote(app: Flask) -> None:
    setup_sites(app)
    for i in range(len(FORMULAS)):
        post_comment(app, article=f"a{i}")
    with app.app_context():
        # The API trims titles, but importers and older rows may hold any text.
        for i, formula in enumerate(FORMULAS):
            thread = db.session.scalar(db.select(Thread).filter_by(article_key=f"a{i}"))
            thread.article_key, thread.title = f"{formula}{i}", formula
        db.session.commit()
    client, _ = login(app, "admin@example.org")
    body = client.get("/mod/overview.csv?site=news&chart=threads").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == ["article", "title", "url", "comments_today"]
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + f for f in FORMULAS)
    assert sorted(row[0] for row in rows[1:]) == sorted(f"'{f}{i}" for i, f in enumerate(FORMULAS))
    assert {row[2][:8] for row in rows[1:]} == {"https://"} and {row[3] for row in rows[1:]} == {"1"}


@pytest.mark.parametrize("query", ["page=x", "page=0", "page=99999999999999999999999",
                                   "moderator=99999999999999999999999", "moderator=0",
                                   f"moderator={'9' * 5000}", "moderator=-1"])
def test_log_filters_out_of_range_are_4xx_pages(app: Flask, query: str) -> None:
    setup_sites(app)
    client, _ = login(app, "admin@example.org")
    res = client.get(f"/mod/log?{query}")
    assert 400 <= res.status_code < 500
    assert res.mimetype == "text/html"
    # An empty filter is no filter, as the log's own form sends it.
    assert client.get("/mod/log?page=&moderator=&site=").status_code == 200
