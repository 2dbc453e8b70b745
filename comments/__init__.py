"""The comment service: `create_app` builds it."""
from __future__ import annotations

# The release (CHANGELOG.md); the build reads it from here. Above the imports: views show it.
__version__ = "0.2.0"

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from . import (cli, errors, extensions, invalidation, limits, logs, mail, metrics, security,
               thread_cache)
from .config import load_config
from .paths import TEMPLATES
from .views import IdConverter, api, links, mod, mod_api, ops, public, widget


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, security, errors, blueprints, CLI."""
    # Templates live beside the package in a checkout, inside it in a wheel (see paths.py).
    app = Flask(__name__, template_folder=str(TEMPLATES), instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    load_config(app, config)
    app.url_map.converters["id"] = IdConverter
    for module in (logs, metrics, limits, extensions, security, errors, cli, mail, thread_cache,
                   invalidation):
        module.init_app(app)
    # The JSON API is not cookie-authenticated: its writes need a JSON body and a CORS origin instead.
    extensions.csrf.exempt(api.bp)
    extensions.csrf.exempt(mod_api.bp)
    for bp in (api.bp, mod_api.bp, mod.bp, public.bp, widget.bp, links.bp, ops.bp):
        app.register_blueprint(bp)
    return app
