"""Column types shared by all models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — also on SQLite, which stores no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def DateTimeField(*, nullable: bool = False, index: bool = False, default: Any = ...) -> Any:
    """A timezone-aware timestamp column (stored in UTC)."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if default is ...:
        return Field(sa_column=column)
    return Field(default=default, sa_column=column)


def NetworkIdField() -> Any:
    """The network a row belongs to (``network.id``; not null, indexed). Every query on such a
    table takes the network: an item of another network is "not found"."""
    return Field(sa_column=Column(Integer, ForeignKey("network.id"), nullable=False, index=True))
