"""Where the templates, the migrations and gunicorn's settings are found: a checkout's top level,
or inside an installed wheel's package."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from comments import paths

CHECKOUT = Path(__file__).resolve().parent.parent
NAMES = ("templates", "migrations", "gunicorn.conf.py")


def _layout(base: Path, *, checkout: bool) -> Path:
    """A copy of the files as a checkout (beside the package) or a wheel (inside it) lays them."""
    package = base / "comments"
    package.mkdir(parents=True)
    where = base if checkout else package
    shutil.copytree(CHECKOUT / "templates", where / "templates")
    shutil.copytree(CHECKOUT / "migrations", where / "migrations")
    shutil.copy(CHECKOUT / "gunicorn.conf.py", where / "gunicorn.conf.py")
    if checkout:
        (base / "pyproject.toml").write_text("[project]\nname = \"comments\"\n")
    return package


def _found(package: Path) -> list[Path]:
    """Where each of NAMES is found for `package`, having checked it is the real thing."""
    templates, migrations, conf = (paths.locate(name, package) for name in NAMES)
    assert (templates / "base.html").is_file()
    assert (migrations / "env.py").is_file() and (migrations / "versions").is_dir()
    assert "worker_class" in conf.read_text()
    return [templates, migrations, conf]


def test_the_checkout_uses_its_top_level_files() -> None:
    assert _found(paths.PACKAGE) == [CHECKOUT / name for name in NAMES]
    assert [paths.TEMPLATES, paths.MIGRATIONS, paths.GUNICORN_CONF] == _found(paths.PACKAGE)


def test_a_checkout_layout_finds_the_files_beside_the_package(tmp_path: Path) -> None:
    package = _layout(tmp_path, checkout=True)
    assert _found(package) == [tmp_path / name for name in NAMES]


def test_a_wheel_layout_finds_the_files_inside_the_package(tmp_path: Path) -> None:
    package = _layout(tmp_path / "site-packages", checkout=False)
    # Another distribution's stray top-level folder in site-packages is not ours.
    (tmp_path / "site-packages" / "templates").mkdir()
    assert _found(package) == [package / name for name in NAMES]


def test_a_missing_folder_fails_loudly(tmp_path: Path) -> None:
    package = tmp_path / "comments"
    package.mkdir()
    with pytest.raises(FileNotFoundError, match="no templates beside or inside"):
        paths.locate("templates", package)
