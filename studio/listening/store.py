"""The database behind listening tests: SQLite in WAL mode by default, any SQLAlchemy URL otherwise.

SQLite notes: WAL lets readers run while one writer commits; every transaction starts with
BEGIN IMMEDIATE so two raters voting at once queue on the write lock (busy_timeout) instead
of failing with "database is locked" when a read transaction tries to upgrade to a write.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateColumn
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from studio.errors import ConfigError
from studio.listening.models import Base
from studio.listening.settings import ListeningSettings

SQLITE_BUSY_TIMEOUT_MS = 30_000  # a voter waits at most this long for another voter's commit


class Store:
    """An engine, a session factory and the data folder that holds the audio files."""

    def __init__(self, settings: ListeningSettings):
        self.settings = settings
        self.data_dir = Path(settings.data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = _engine(settings.url)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def add_missing_columns(engine: Engine) -> None:
    """Add the columns a newer model has and an existing database lacks (`create_all` only makes
    missing tables). Hand-written rather than Alembic: the schema has only ever grown by additive
    columns, each nullable or with a server default, which one ALTER TABLE per column covers."""
    with engine.begin() as connection:
        inspector = inspect(connection)
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not (column.nullable or column.server_default is not None):
                    raise ConfigError(f"the database lacks {table.name}.{column.name}, which has no default to "
                                      "fill existing rows; export the tests and start a fresh database")
                ddl = CreateColumn(column).compile(dialect=engine.dialect)
                connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")


def _engine(url: str) -> Engine:
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as error:
        raise ConfigError(f"STUDIO_DATABASE_URL {url!r} cannot be used: {error}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook below emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
