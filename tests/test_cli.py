"""The operator commands, through Flask's CLI runner."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from comments.extensions import db
from comments.models import Moderation, Site


def test_create_site_with_origins(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["comments", "create-site", "daily", "--name", "The Daily",
                                 "--origin", "https://Daily.example:443/news",
                                 "--origin", "http://localhost:8080"])
    assert result.exit_code == 0, result.output
    assert "Created site 'daily'" in result.output
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(slug="daily"))
        assert site.name == "The Daily"
        assert site.origins == ["https://daily.example", "http://localhost:8080"]
        assert site.moderation is Moderation.POST


def test_create_site_refuses_duplicates_and_bad_input(app: Flask, runner: FlaskCliRunner) -> None:
    args = ["comments", "create-site", "daily", "--name", "Daily", "--origin", "https://d.example"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and "exists already" in again.output
    quiet = runner.invoke(args=[*args, "--if-absent"])
    assert quiet.exit_code == 0 and "exists already" in quiet.output
    bad_origin = runner.invoke(args=["comments", "create-site", "x", "--name", "X",
                                     "--origin", "javascript:alert(1)"])
    assert bad_origin.exit_code == 1 and "origin" in bad_origin.output
    bad_slug = runner.invoke(args=["comments", "create-site", "Not A Slug", "--name", "X",
                                   "--origin", "https://x.example"])
    assert bad_slug.exit_code == 1 and "slug" in bad_slug.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Site.id))) == 1
