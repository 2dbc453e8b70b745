"""Hatchling's build hook: what a distribution carries beyond the package's own files.

The sdist and the wheel carry the built widget, or the build fails saying what is missing; a wheel
carries the top-level templates/, migrations/ and gunicorn.conf.py inside the package. The hook lives beside .ci/run
because, like it, it is run by machines around the service and is no part of it: under comments/
it would ship in the wheel (and be served as a static file).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# What GET /widget.js and its stylesheet serve (count.js is a plain source file beside them).
BUNDLE = ("comments/static/widget/dist/widget.js", "comments/static/widget/dist/widget.css")
# What sits beside the package in a checkout and inside it in a wheel (comments/paths.py).
BESIDE = {name: f"comments/{name}" for name in ("templates", "migrations", "gunicorn.conf.py")}


class WidgetBuildHook(BuildHookInterface):
    """Build the widget with `make widget` in a checkout; from an sdist, use the bundle it carries."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Make sure the bundle is there, and map BESIDE, before hatchling collects the files."""
        if version == "editable":  # the checkout is on the path, with its files and `make widget`
            return
        root = Path(self.root)
        from_sdist = (root / "PKG-INFO").is_file()
        if not from_sdist:
            _make_widget(root)
        missing = [name for name in BUNDLE if not (root / name).is_file()]
        if missing:
            where = ("this sdist was made without it" if from_sdist
                     else "`make widget` did not write it")
            raise RuntimeError(f"The widget's bundle is missing ({', '.join(missing)}): {where}.")
        if self.target_name == "wheel":
            build_data["force_include"].update(BESIDE)


def _make_widget(root: Path) -> None:
    """`make widget`: esbuild, from the npm registry, bundles the widget (a no-op when it is built)."""
    if shutil.which("make") is None:
        raise RuntimeError("Building comments from a checkout needs `make` (and npm) to build the "
                           "widget: `make` is not on PATH. Install make and npm (Node.js), or "
                           "build from the sdist, which carries the built widget.")
    if subprocess.run(["make", "--no-print-directory", "widget"], cwd=root).returncode == 0:
        return
    npm = ("npm (Node.js) is not on PATH" if shutil.which("npm") is None
           else "npm could not install esbuild from the npm registry, or esbuild failed")
    raise RuntimeError(f"`make widget` failed, so the widget cannot be bundled: {npm} "
                       "(its output is above).")
