"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class PortableJSON(TypeDecorator[Any]):
    """JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere.

    Chosen per dialect rather than with `with_variant(JSONB(), ...)`, so that SQLAlchemy's
    PostgreSQL dialect is only imported by processes that use PostgreSQL. Python None is
    stored as JSON null, as plain JSON does.
    """

    impl = JSON
    cache_ok = True
    should_evaluate_none = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONType = PortableJSON()


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always read back as an aware UTC datetime.

    SQLite has no time zones: values are stored as naive UTC text there, so ordering by the
    column stays correct, and the zone is put back on the way out. Naive datetimes are
    refused on the way in: an instant without an offset is a bug, not a guess to make.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime {value.isoformat()}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - driver returned text
            value = datetime.fromisoformat(str(value))
        aware: datetime = value
        if aware.tzinfo is None:
            return aware.replace(tzinfo=UTC)
        return aware.astimezone(UTC)
