"""Schema migrations (Alembic), from the first released schema (revision 0001) on.

Every change to the tables in store.py is a revision in versions/ that also sets
meta.schema_version to its number, so `store.SCHEMA_VERSION` is the head revision's number.
`Store.create` builds the tables from store.py and stamps the head; `Store.open` upgrades an
older project (a SQLite file is backed up first, see backup.py) in one transaction, and refuses
one written by a newer coding. A project made before migrations existed (schema 1, no
`alembic_version` table) is stamped 0001 first.

A new revision: change store.py, then write versions/NNNN_what.py by hand or start from
`alembic -c coding/storage/migrations/alembic.ini -x url=sqlite:///scratch.db revision --autogenerate
-m what` on a project at the previous head; set `revision = "NNNN"` and bump SCHEMA_VERSION.
For a PostgreSQL administrator, `... -x url=postgresql://... upgrade 0001:head --sql` prints
the SQL instead of running it.
"""

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import String, Text, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import column, table

from ...errors import StoreError
from ..schema import SCHEMA_VERSION, EventRow

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
FIRST = "0001"  # the first released schema, which had meta.schema_version = 1 and no Alembic
META = table("meta", column("key", String(64)), column("value", Text))  # as every revision has it


def revision_name(number):
    """The Alembic revision id of schema version `number`: 2 -> '0002'."""
    return f"{int(number):04d}"


def current_revision(connection):
    """The project's Alembic revision, or None when it has none (made before migrations)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(select(column("version_num")).select_from(
        table(VERSION_TABLE))).scalar()


def set_schema_version(op, number):
    """In a revision: meta.schema_version := number (each revision's upgrade sets its own
    number, its downgrade the previous one), so the schema version and the revision agree."""
    op.execute(META.update().where(META.c.key == "schema_version").values(value=str(number)))


def config(connection):
    """An Alembic Config that runs versions/ on an open connection (see env.py)."""
    from alembic.config import Config

    settings = Config()
    settings.set_main_option("script_location", str(HERE))
    settings.attributes["connection"] = connection
    return settings


def revisions():
    """Every revision id this coding knows, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(HERE))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def stamp_head(connection):
    """Record that a project whose tables store.py just made is at the newest revision."""
    from alembic import command

    command.stamp(config(connection), "head")


def is_current(schema_version, found):
    """True when a project's schema version and Alembic revision are this coding's head."""
    return str(schema_version) == str(SCHEMA_VERSION) and found == revision_name(SCHEMA_VERSION)


def bring_up_to_date(store, schema_version, found, before_upgrade=None):
    """Upgrade an older project (meta.schema_version `schema_version`, Alembic revision
    `found`) to the head after an automatic backup; refuse a newer or unknown schema."""
    head = revision_name(SCHEMA_VERSION)
    text = str(schema_version) if schema_version is not None else ""
    version = int(text) if text.isdigit() else None
    if version == SCHEMA_VERSION and found == head:
        return
    unknown = found is not None and found not in revisions()
    if (version or 0) > SCHEMA_VERSION or unknown:
        newer = f"schema {version}, revision {found}" if unknown else f"schema {version}"
        raise StoreError(f"was written by a newer version of coding ({newer}; this one reads "
                         f"{SCHEMA_VERSION}); upgrade coding", path=store.label)
    if version is None or version < 1:
        raise StoreError(f"has unknown schema version {schema_version!r} (this coding reads "
                         f"{SCHEMA_VERSION})", path=store.label)
    upgrade(store, found or revision_name(version),
            before=(lambda: before_upgrade(store)) if before_upgrade else None)


def upgrade(store, found, before=None):
    """Upgrade `store`'s project from revision `found` to the head, all or nothing, after
    calling `before()` (the backup). A project without an Alembic revision (made before
    migrations) is stamped `found` first. Another process may be upgrading it at the same time:
    the write lock is taken first, and the revision read again and the backup taken under it
    (readers go on meanwhile; writers wait). Sets meta.schema_version and logs an "upgrade"
    event. Returns the revision it started from."""
    from alembic import command

    head = revision_name(SCHEMA_VERSION)
    try:
        with store.engine.connect() as connection, _foreign_keys_off(connection):
            connection = connection.execution_options(**store.WRITE)
            with connection.begin():
                now = current_revision(connection)
                if now == head:
                    return head  # upgraded by another process while we waited
                if before is not None:
                    before()
                settings = config(connection)
                if now is None:
                    command.stamp(settings, found)
                command.upgrade(settings, "head")
                connection.execute(META.update().where(META.c.key == "schema_version")
                                   .values(value=str(SCHEMA_VERSION)))
                connection.execute(EventRow.__table__.insert().values(
                    coder="system", action="upgrade", entity="project", entity_id=None,
                    detail={"from": now or found, "to": head}))
                _check_foreign_keys(connection, store.label)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not be upgraded from schema {found} to {head}, so it is "
                         f"unchanged: {getattr(exc, 'orig', None) or exc}",
                         path=store.label) from exc
    return found


@contextmanager
def _foreign_keys_off(connection):
    """SQLite: foreign keys off for the upgrade's transaction (the pragma is ignored inside a
    transaction, so it is set before), on again after. Revisions that rebuild a table copy it
    and drop the original, and with foreign keys on, dropping a parent table deletes every
    row of its children (https://www.sqlite.org/lang_altertable.html#otheralter)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection, label):
    """Before an upgrade commits on SQLite: every reference still points at a row."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise StoreError(f"the upgrade would leave {len(broken)} rows pointing at rows that "
                         f"do not exist (first: table {broken[0][0]}, row {broken[0][1]}), so "
                         "it is unchanged", path=label)
