"""Where the service's files are: beside the package in a checkout, inside it in a wheel."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def locate(name: str, package: Path = PACKAGE) -> Path:
    """`templates`, `migrations` or `gunicorn.conf.py`: beside the package in a checkout, else
    inside it (a wheel carries them there).

    A checkout is known by its pyproject.toml, so that another distribution's stray top-level
    folder of the same name in site-packages is never taken for ours.
    """
    checkout = package.parent
    beside = [checkout / name] if (checkout / "pyproject.toml").is_file() else []
    for candidate in (*beside, package / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no {name} beside or inside {package}")


TEMPLATES = locate("templates")
MIGRATIONS = locate("migrations")
# Read by gunicorn only (`gunicorn -c`), never by the app.
GUNICORN_CONF = locate("gunicorn.conf.py")
