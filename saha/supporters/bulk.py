"""Bulk writes for the import: COPY on PostgreSQL, executemany on SQLite.

The ORM's bulk_create builds a model instance and an SQL parameter list per
row; at a million rows that alone costs more than the database. Here rows
are plain tuples in a model's column order, and ids of new rows are taken
in advance so that the rows pointing at them can be written in the same pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`, inside the current transaction."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One nextval per id. Each is atomic, so the ids never overlap a
            # concurrent caller's (they may interleave, which is harmless) and
            # the sequence only moves forward. A single setval(nextval() + n - 1)
            # is not safe: a nextval of another session between the two lands
            # inside the range, and its own setval can then move the sequence
            # back below ids already handed out, so that a later plain ORM
            # insert fails on the primary key.
            cursor.execute(
                "SELECT nextval(seq) FROM pg_get_serial_sequence(%s, 'id') AS seq,"
                " generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the import's transaction holds the only write lock (IMMEDIATE),
        # so nobody else can take ids between this read and the insert.
        cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608
        (highest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


def insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows given as tuples of `columns` (database column names)."""
    if not rows:
        return
    table = model._meta.db_table
    quoted = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        adapted = [tuple(_sqlite_value(v) for v in row) for row in rows]
        cursor.executemany(
            f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders})',  # noqa: S608
            adapted,
        )


def existing(
    model: type[models.Model], column: str, organization_id: int, values: Sequence[str]
) -> dict[str, int]:
    """{value: person_id} for the values of `column` already taken in the organization."""
    if not values:
        return {}
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of IN placeholders.
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT "{column}", "person_id" FROM "{table}"'  # noqa: S608
                f' WHERE "organization_id" = %s AND "{column}" = ANY(%s)',
                [organization_id, list(values)],
            )
            return dict(cursor.fetchall())
    return dict(
        model._default_manager.filter(
            organization_id=organization_id, **{f"{column}__in": values}
        ).values_list(column, "person_id")
    )


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return (
            connection.ops.adapt_datetimefield_value(value)
            if hasattr(value, "hour")
            else value.isoformat()
        )
    return value


def as_json(value: Any) -> Any:
    """A JSON column's value as COPY wants it (text) or as SQLite wants it (adapted later)."""
    if connection.vendor == "postgresql":
        return json.dumps(value, ensure_ascii=False)
    return value
