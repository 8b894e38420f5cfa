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
    take = [(name, _processor(table.c[name], dialect)) for name in given]
    fill = [(_default(column), _processor(column, dialect)) for column in filled]

    def values_of(row: Mapping[str, Any]) -> tuple[Any, ...]:
        out = [row[name] if convert is None else convert(row[name]) for name, convert in take]
        for default, convert in fill:
            value = default()
            out.append(value if convert is None else convert(value))
        return tuple(out)

    values = [values_of(row) for row in rows]
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
    """The column type's conversion, remembering its last immutable value: a bulk write repeats one
    value down a column (every row's `now`, its session's start), and SQLite's datetime conversion formats
    a string in Python each time."""
    processor: Callable[[Any], Any] | None = column.type.bind_processor(dialect)
    if processor is None:
        return None
    convert = processor
    last: list[Any] = [_NOTHING, None]

    def remembering(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        out = convert(value)
        if isinstance(value, _IMMUTABLE):
            last[0], last[1] = value, out
        return out

    return remembering


_NOTHING = object()
_IMMUTABLE = (datetime, date, Decimal, str, int, float, bool)


def _default(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    if default is None or not (default.is_scalar or default.is_callable):
        raise ValueError(f"{column.table.name}.{column.name}: give it in every row (its default is not a value)")
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    function = default.arg  # type: ignore[attr-defined]  # SQLAlchemy wraps every callable default as f(context)
    return lambda: function(None)
