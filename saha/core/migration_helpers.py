"""Helpers for data migrations (kept importable: migrations reference them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

BATCH = 2000


def fill_uuids(app: str, model_names: list[str]) -> Callable[[Any, Any], None]:
    """A RunPython step giving every existing row of these models its own uuid.

    PostgreSQL draws them in one UPDATE; elsewhere rows are updated in batches.
    """

    def run(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        for name in model_names:
            model = apps.get_model(app, name)
            table = schema_editor.quote_name(model._meta.db_table)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET uuid = gen_random_uuid() WHERE uuid IS NULL"  # noqa: S608
                    )
                continue
            while True:
                ids = list(
                    model.objects.filter(uuid__isnull=True).values_list("pk", flat=True)[:BATCH]
                )
                if not ids:
                    break
                model.objects.bulk_update(
                    [model(pk=pk, uuid=uuid.uuid4()) for pk in ids], ["uuid"], batch_size=500
                )

    return run
