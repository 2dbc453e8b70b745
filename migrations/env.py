"""Alembic environment: runs the migrations on the Flask app's own engine and metadata."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    # Keep the app's loggers working after a migration run inside a live process or a test.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    """Emit the migrations as SQL for a URL, without connecting."""
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations over a connection of the app's engine."""

    def process_revision_directives(_context, _revision, directives) -> None:
        # An autogenerate that finds no change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


# SQLite alters a table in batch mode by rebuilding it: copy, drop the old one, rename the copy.
# With foreign keys enforced, that drop deletes or orphans every row that refers to the table
# (a comment's votes, reports and replies; a site's threads), so they are off while migrations
# run, as SQLite's own procedure for altering tables says, and checked afterwards.
def _sqlite_foreign_keys(connection, on: bool) -> None:
    """Turn enforcement on or off (a no-op inside a transaction, so outside one)."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


def _check_foreign_keys(connection) -> None:
    """Fail when a migration left a row referring to nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    connection.commit()
    if broken:
        raise RuntimeError(f"the migrations left rows whose foreign keys refer to nothing: {broken}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
