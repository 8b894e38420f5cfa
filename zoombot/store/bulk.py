"""Many rows into one table at the speed of the driver: COPY on PostgreSQL, executemany on SQLite.

A statewide rebuild writes 180 000 rows (participants, credit lines, audit entries). Through SQLAlchemy's
executemany each row's every value passes its generic parameter machinery, and on PostgreSQL the rows go
as multi-row INSERTs that the server parses again and again; that was most of a rebuild's time beside
the rules themselves. Here each value is still converted by its column's own type (the same bind
processors, so what is stored is exactly what an ORM insert stores: UTC datetimes, JSON text, numerics),
then the rows go to the driver in one call: `COPY ... FROM STDIN` with psycopg, `executemany` with
sqlite3. Both run on the session's own connection, inside its transaction, and a refusal for the data
raises SQLAlchemy's own error classes (DataError, IntegrityError) as any statement would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each a mapping of column name to value, all with the same keys) into `table`. A column
    a row leaves out gets its Python-side default, as with an ORM insert; the primary key its sequence."""
    if not rows:
        return
    session.flush()  # rows this depends on (sessions, meetings) must be there first
    connection = session.connection()
    dialect = connection.dialect
    given = list(rows[0])
    unknown = [name for name in given if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    filled = [c for c in table.c if c.name not in given and not c.primary_key and c.default is not None]
    columns = [table.c[name] for name in given] + filled
    values = list(
        zip(
            *[_converted([row[name] for row in rows], _processor(table.c[name], dialect)) for name in given],
            *[_converted(_defaults(column, len(rows)), _processor(column, dialect)) for column in filled],
            strict=True,
        )
    )
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        statement = f"COPY {target} ({names}) FROM STDIN"
        driver = connection.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
                for row in values:
                    copy.write_row(row)
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                statement, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect
            ) from exc
    else:
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {target} ({names}) VALUES ({marks})", values)


def _processor(column: Column[Any], dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's own conversion, as an ORM insert applies it (None: the value goes as it is)."""
    processor: Callable[[Any], Any] | None = column.type.bind_processor(dialect)
    return processor


def _converted(values: list[Any], convert: Callable[[Any], Any] | None) -> list[Any]:
    """One column's values through its type's conversion, a column at a time (no Python work per row
    beyond the conversion itself). A column that repeats one value (every row's `now`, its session's id) is
    converted once: SQLite's datetime conversion formats a string in Python each time. Repeats by identity,
    not equality: Decimal("1.5") equals Decimal("1.50") and converts to other text."""
    if convert is None or not values:
        return values
    first = values[0]
    if isinstance(first, _IMMUTABLE) and all(value is first for value in values):
        return [convert(first)] * len(values)
    return list(map(convert, values))


_IMMUTABLE = (datetime, date, Decimal, str, int, float, bool)


def _defaults(column: Column[Any], count: int) -> list[Any]:
    """The column's Python-side default for `count` rows: each row its own call of a callable one."""
    make = _default(column)
    return [make() for _ in range(count)]


def _default(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    if default is None or not (default.is_scalar or default.is_callable):
        raise ValueError(f"{column.table.name}.{column.name}: give it in every row (its default is not a value)")
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    function = default.arg  # type: ignore[attr-defined]  # SQLAlchemy wraps every callable default as f(context)
    return lambda: function(None)
