"""A Database: one engine and the repositories built on it, ready to use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from gameday.adapters.db import schema_version
from gameday.adapters.db.control import SqlControlState
from gameday.adapters.db.engine import check_connection, make_engine, safe_url
from gameday.adapters.db.marks import SqlServiceMarks
from gameday.adapters.db.outbox import SqlOutbox
from gameday.adapters.db.runs import SqlRunRepository
from gameday.domain.clock import SystemClock
from gameday.domain.ports import Clock


@dataclass
class Database:
    """The engine plus the RunRepository, ControlState, Outbox and ServiceMarks on it."""

    engine: Engine
    runs: SqlRunRepository
    control: SqlControlState
    outbox: SqlOutbox
    marks: SqlServiceMarks

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, upgrade: bool = True) -> Database:
        """Connect (Unavailable with a one-line reason if that fails), refuse a schema newer
        than this code, and apply pending migrations unless `upgrade` is False.

        A database already at the newest revision is recognised without loading Alembic
        (see schema_version); any other revision goes through Alembic as before."""
        engine = make_engine(url)
        try:
            check_connection(engine)
            if not schema_version.is_current(engine):
                from gameday.adapters.db import migrate

                if upgrade:
                    migrate.upgrade(engine)
                else:
                    migrate.check_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        chosen: Clock = clock or SystemClock()
        return cls(
            engine=engine,
            runs=SqlRunRepository(engine, chosen),
            control=SqlControlState(engine, chosen),
            outbox=SqlOutbox(engine, chosen),
            marks=SqlServiceMarks(engine, chosen),
        )

    @staticmethod
    def head_revision() -> str:
        """The newest schema revision this code knows."""
        from gameday.adapters.db import migrate

        return migrate.head_revision()

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return safe_url(self.engine.url)

    def upgrade(self) -> tuple[str | None, str]:
        """Apply pending migrations: (revision before, revision after)."""
        from gameday.adapters.db import migrate

        return migrate.upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        from gameday.adapters.db import migrate

        return migrate.current_revision(self.engine)

    def close(self) -> None:
        """Release every pooled connection."""
        self.runs.close()
        self.engine.dispose()
