"""A fresh, migrated (and seeded) database in seconds: a copy of a cached template.

Migrating Saha's schema into a new PostgreSQL database takes about 25 s on
the bench machine, and writing B3's 100,000 people another minute; B3/B4 and
B5/B6 each want a database of their own (a broadcast's workers would
otherwise drain every other benchmark's outbox). So the schema is migrated
once into a template database, seeded there when the benchmark asks, and
stamped (a database comment) with a hash of the migration files and of the
seed; each fresh database is `CREATE DATABASE ... TEMPLATE` of it. A change to
any migration or to the seed makes a new template. Seeding is setup, never
part of a measured time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness.context import (
    ROOT,
    _admin_connect,
    database_name,
    ensure_bench_name,
    with_database,
)


def _stamp(seed_key: str) -> str:
    digest = hashlib.sha256(seed_key.encode())
    for path in sorted(Path(ROOT, "saha").glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _comment(ctx: Any, name: str) -> str | None:
    with _admin_connect(ctx.database_url) as conn:
        found = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return found[0] if found else None


def migrated_copy(
    ctx: Any,
    name: str,
    *,
    seed: Callable[[str], None] | None = None,
    seed_key: str = "",
) -> str:
    """Drop and create `<name>_bench` as a copy of a migrated template, seeded by
    `seed(url)` once per `seed_key` (and per schema); its URL."""
    from psycopg import sql

    # One template per seed (QUICK's and the full size's are both kept).
    seed_hash = hashlib.sha256(seed_key.encode()).hexdigest()[:6]
    template = f"{name}_{seed_hash}_template_bench" if seed_key else "h3_template_bench"
    template_url = with_database(ctx.database_url, template)
    stamp = _stamp(seed_key)
    if _comment(ctx, template) != stamp:
        started = time.monotonic()
        ctx.fresh_database(template)
        ctx.migrate_saha(template_url)
        if seed is not None:
            seed(template_url)
        with _admin_connect(ctx.database_url) as conn:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(template), sql.Literal(stamp)
                )
            )
        ctx.log(
            f"template {template} made in {time.monotonic() - started:.1f} s (kept for later runs)"
        )
    url = with_database(ctx.database_url, name if name.endswith("bench") else f"{name}_bench")
    ensure_bench_name(url)
    with _admin_connect(ctx.database_url) as conn:
        target = sql.Identifier(database_name(url))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(target))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(target, sql.Identifier(template))
        )
    return url
