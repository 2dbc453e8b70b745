"""The package: the sdist and the wheel build, and the wheel alone, installed in a new virtualenv
outside the checkout, is the whole service (commands, gunicorn, pages, widget, feeds)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import comments

from .conftest import USE_POSTGRES
from .helpers import ORIGIN, comment_payload
from .servers import ROOT, Server, gunicorn, server_env

# Building and installing take a minute: once per run, on SQLite (`make test`), not again in the
# PostgreSQL run, which would test the same files.
pytestmark = [pytest.mark.package,
              pytest.mark.skipif(USE_POSTGRES, reason="the package is tested in the SQLite run")]

VERSION = comments.__version__
# What a wheel must carry beyond the Python modules, as paths inside it.
SHIPPED = ("comments/templates/base.html", "comments/templates/mod/login.html",
           "comments/templates/feeds/site.atom", "comments/migrations/env.py",
           "comments/migrations/alembic.ini", "comments/migrations/script.py.mako",
           "comments/migrations/versions/0010_outbox_site.py",
           "comments/static/widget/dist/widget.js", "comments/static/widget/dist/widget.css",
           "comments/static/widget/count.js", "comments/gunicorn.conf.py")


@dataclass
class Installed:
    """A virtualenv with only the wheel (and its dependencies), and an empty directory to run in."""

    venv: Path
    workdir: Path
    env: dict[str, str]
    site_packages: Path

    def run(self, *argv: str) -> str:
        """Run one of the virtualenv's commands from the empty directory; its output."""
        done = subprocess.run([str(self.venv / "bin" / argv[0]), *argv[1:]], cwd=self.workdir,
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
        return done.stdout


def _run(argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a build or install step; its output is the failure's message."""
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist, and the wheel that `python -m build` makes from it (as `make dist` does)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
    return {"sdist": out / f"comments-{VERSION}.tar.gz",
            "wheel": out / f"comments-{VERSION}-py3-none-any.whl"}


@pytest.fixture(scope="module")
def installed(dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel in a new virtualenv outside the checkout, with no path leading back to it."""
    base = tmp_path_factory.mktemp("installed")
    venv, workdir = base / "venv", base / "empty"
    workdir.mkdir()
    env = {key: value for key, value in server_env().items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env["DATABASE_URL"] = f"sqlite:///{base / 'comments.sqlite3'}"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=workdir, env=env)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(dists["wheel"])],
         cwd=workdir, env=env)
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    return Installed(venv, workdir, env, site_packages)


def test_the_sdist_carries_what_the_wheel_is_built_from(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", ".ci/hatch_build.py",
            "templates/base.html", "migrations/env.py", "migrations/versions/0001_sites_threads_comments.py",
            "comments/static/widget/widget.js", "comments/static/widget/i18n/en.js",
            "comments/static/widget/dist/widget.js", "comments/static/widget/dist/widget.css",
            "comments/static/widget/count.js"} <= names
    assert not any(name.startswith(("tests/", "bench/", "docs/")) for name in names)


def test_the_wheel_carries_templates_migrations_and_the_built_widget(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
    assert set(SHIPPED) <= names
    versions = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {f"comments/migrations/versions/{name}" for name in versions} <= names
    assert not any(name.startswith(("templates/", "migrations/", ".ci/", "tests/", "wsgi"))
                   or "__pycache__" in name for name in names)


def test_a_build_without_npm_fails_saying_so(tmp_path: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    checkout = tmp_path / "checkout"
    for name in files.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    tools = tmp_path / "bin"  # what `make widget` runs, less npm: esbuild cannot be installed
    tools.mkdir()
    for tool in ("make", "rm", "touch"):
        (tools / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    env = {**server_env(), "PATH": str(tools)}
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "out"),
                           str(checkout)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and not list((tmp_path / "out").glob("*.whl"))
    assert "npm (Node.js) is not on PATH" in done.stdout + done.stderr


def test_the_installed_wheel_is_the_whole_service(installed: Installed, tmp_path: Path) -> None:
    where = installed.run("python", "-c", "import comments; print(comments.__file__)").strip()
    assert Path(where).is_relative_to(installed.site_packages)
    installed.run("flask", "--app", "comments", "db", "upgrade")
    installed.run("flask", "--app", "comments", "comments", "create-site", "news", "--name", "News",
                  "--origin", ORIGIN)
    gunicorn_bin = str(installed.venv / "bin" / "gunicorn")
    with gunicorn(installed.env, tmp_path / "plain", workers=1, app="comments:create_app()",
                  command=[gunicorn_bin], cwd=installed.workdir) as server:
        assert server.request("GET", "/healthz").json()["version"] == VERSION
    # The settings the wheel ships, named as the README does; their on_starting hook makes the
    # metrics directory, which shows gunicorn read them.
    conf = installed.run("python", "-c", "import comments.paths as p; print(p.GUNICORN_CONF)").strip()
    assert Path(conf) == installed.site_packages / "comments" / "gunicorn.conf.py"
    metrics = tmp_path / "metrics"
    with gunicorn({**installed.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
                  tmp_path / "configured", workers=2, app="comments:create_app()",
                  command=[gunicorn_bin, "-c", conf], cwd=installed.workdir) as server:
        assert metrics.is_dir()
        _serves_everything(server, installed.site_packages / "comments")
    # Nothing was written where the commands ran.
    assert not any(installed.workdir.iterdir())


def _serves_everything(server: Server, package: Path) -> None:
    """The widget's files from the installed package, the moderator login, posting, the no-script
    page and the feeds."""
    health = server.request("GET", "/healthz")
    assert health.status == 200 and health.json()["version"] == VERSION
    for path, file, mimetype in (("/widget.js", "static/widget/dist/widget.js", "text/javascript"),
                                 ("/widget/widget.css", "static/widget/dist/widget.css", "text/css"),
                                 ("/count.js", "static/widget/count.js", "text/javascript")):
        reply = server.request("GET", path)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith(mimetype), path
        assert reply.body == (package / file).read_bytes(), path
    login = server.request("GET", "/mod/login")
    assert login.status == 200 and b'name="csrf_token"' in login.body
    posted = server.request("POST", "/api/v1/comments", comment_payload(text="Packaged *well*"),
                            headers={"Origin": ORIGIN})
    assert posted.status == 201, posted.body
    assert posted.json()["comment"]["status"] == "approved"
    page = server.request("GET", "/t/news?article=story-1")
    assert page.status == 200 and b"Packaged <em>well</em>" in page.body
    for feed in ("/feeds/news.atom", "/feeds/news/thread.atom?article=story-1"):
        reply = server.request("GET", feed)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/atom+xml")
        assert b"Packaged" in reply.body, feed
