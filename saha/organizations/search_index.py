"""The public search's index: one `SearchEntry` per campaign, statement, event and petition,
holding all its searched texts in every language, folded as a query is
(`saha.organizations.search.fold`).

It is kept current where texts change, on save: `connect()` (run by the app's
`ready()`) hangs receivers on the models' post_save and post_delete. A
statement's texts are its versions', so saving, adding or removing a version
re-indexes its statement. Whether an item is public is never stored here (a
search applies the public filters to the item's own row), so the conditional
UPDATEs that publish, close, cancel or withdraw need nothing; whatever changes a
text by `QuerySet.update()` instead of `save()` must call `refresh(item)`.

`rebuild()` indexes every row again, in batches: the data migration (organizations
0003) runs it on an upgrade, with the models as they were then, and a change to
what `fold` folds needs a new migration that runs it again. The readers below
touch the text fields only when there are rows to index, so on a new
installation 0003 reads nothing; a change to the fields they read must keep 0003
working on an old installation (or make it a no-op and rebuild in a new
migration). `loaddata` (a raw save) indexes nothing: run `rebuild()` after it.

What is indexed, per item: the titles, then the other texts (summaries,
descriptions, bodies, venue and address, petition targets), each cut at
`MAX_TEXT` characters as written, their Markdown marks dropped, then folded, the
whole cut at `MAX_FOLDED`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from saha.organizations.search import MAX_TEXT, fold, plain

MAX_FOLDED = 60_000  # characters of one entry: three languages of a long text
MAX_TITLES = 2_000
BATCH = 200  # items read and written at once by rebuild()

# Where each kind lives, and the fields whose change changes what is indexed.
SOURCES = {
    "campaign": ("campaigns", "Campaign", {"titles", "summaries", "descriptions"}),
    "statement": ("statements", "Statement", set()),
    "event": ("events", "Event", {"titles", "descriptions", "venue_name", "address"}),
    "petition": ("petitions", "Petition", {"titles", "texts", "targets"}),
}
VERSION_FIELDS = {"statement", "language", "title", "summary", "body"}


@dataclass
class Texts:
    """One item's texts as written: its titles, then everything else searched."""

    organization_id: int
    titles: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def folded(self) -> tuple[str, str]:
        """(the folded titles, the folded titles and texts), each cut to its bound."""
        titles = fold(" ".join(title[:MAX_TEXT] for title in self.titles))[:MAX_TITLES]
        everything = "\n".join(text[:MAX_TEXT] for text in [*self.titles, *self.texts] if text)
        return titles, fold(plain(everything))[:MAX_FOLDED]


def _values(values: Any) -> Iterator[str]:
    """The texts of a per-language JSON field ({"ar": "...", "en": "..."})."""
    if isinstance(values, dict):
        yield from (text for text in values.values() if isinstance(text, str) and text)


def _rows(apps: Apps, kind: str, ids: list[int]) -> models.QuerySet[Any]:
    """The items' rows, locked until the entries are written: an edit saved meanwhile
    waits, then writes its own entry after (never one older than the row)."""
    app_label, model_name, _fields = SOURCES[kind]
    model = apps.get_model(app_label, model_name)
    return model.objects.select_for_update().filter(pk__in=ids).order_by("pk")


def _campaigns(apps: Apps, ids: list[int]) -> dict[int, Texts]:
    rows = _rows(apps, "campaign", ids)
    return {
        pk: Texts(organization_id, [*_values(titles)], [*_values(summaries), *_values(texts)])
        for pk, organization_id, titles, summaries, texts in rows.values_list(
            "pk", "organization_id", "titles", "summaries", "descriptions"
        )
    }


def _statements(apps: Apps, ids: list[int]) -> dict[int, Texts]:
    rows = _rows(apps, "statement", ids)
    found = {
        pk: Texts(organization_id)
        for pk, organization_id in rows.values_list("pk", "organization_id")
    }
    versions = (
        apps.get_model("statements", "StatementVersion")
        .objects.filter(statement_id__in=list(found))
        .order_by("statement_id", "language")
        .values_list("statement_id", "title", "summary", "body")
    )
    for statement_id, title, summary, body in versions:
        found[statement_id].titles.append(title)
        found[statement_id].texts += [summary, body]
    return found


def _events(apps: Apps, ids: list[int]) -> dict[int, Texts]:
    rows = _rows(apps, "event", ids)
    return {
        pk: Texts(organization_id, [*_values(titles)], [*_values(descriptions), venue, address])
        for pk, organization_id, titles, descriptions, venue, address in rows.values_list(
            "pk", "organization_id", "titles", "descriptions", "venue_name", "address"
        )
    }


def _petitions(apps: Apps, ids: list[int]) -> dict[int, Texts]:
    rows = _rows(apps, "petition", ids)
    return {
        pk: Texts(organization_id, [*_values(titles)], [*_values(texts), targets])
        for pk, organization_id, titles, texts, targets in rows.values_list(
            "pk", "organization_id", "titles", "texts", "targets"
        )
    }


READERS: dict[str, Callable[[Apps, list[int]], dict[int, Texts]]] = {
    "campaign": _campaigns,
    "statement": _statements,
    "event": _events,
    "petition": _petitions,
}


def index(
    kind: str, ids: Iterable[int], *, apps: Apps = installed_apps, create: bool = True
) -> None:
    """Write the entries of these items of `kind` from their rows as they are now; an id
    whose row is gone loses its entry. With `create=False` only existing entries are
    rewritten: what a deletion runs, when the organization's entries may be going too."""
    with transaction.atomic():
        _write(kind, list(ids), apps, create)


def _write(kind: str, ids: list[int], apps: Apps, create: bool) -> None:
    entries = apps.get_model("organizations", "SearchEntry")
    found = READERS[kind](apps, ids)
    gone = [pk for pk in ids if pk not in found]
    if gone:
        entries.objects.filter(kind=kind, object_id__in=gone).delete()
    rows = []
    for pk, texts in found.items():
        titles, folded = texts.folded()
        rows.append(
            entries(
                organization_id=texts.organization_id,
                kind=kind,
                object_id=pk,
                titles=titles,
                folded=folded,
                updated_at=timezone.now(),
            )
        )
    if not create:
        for row in rows:
            entries.objects.filter(kind=kind, object_id=row.object_id).update(
                titles=row.titles, folded=row.folded, updated_at=row.updated_at
            )
    elif rows:
        # One INSERT ... ON CONFLICT DO UPDATE: two saves at once leave one entry.
        entries.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=["organization", "titles", "folded", "updated_at"],
        )


def _key(item: models.Model) -> tuple[str, int]:
    """The kind and id of the entry that holds `item`'s texts."""
    meta = item._meta
    if (meta.app_label, meta.object_name) == ("statements", "StatementVersion"):
        return "statement", item.statement_id  # type: ignore[attr-defined]
    for kind, (app_label, model_name, _fields) in SOURCES.items():
        if (meta.app_label, meta.object_name) == (app_label, model_name):
            return kind, item.pk
    raise TypeError(f"{meta.label} is not searched")


def refresh(item: models.Model) -> None:
    """Re-index a campaign, statement, event or petition (or a statement version's
    statement) from its row as it is now. For code that changes a searched text
    with `QuerySet.update()`; `save()` does it by itself."""
    kind, pk = _key(item)
    index(kind, [pk])


def rebuild(*, apps: Apps = installed_apps) -> int:
    """Index every item again and drop the entries of items that are gone. Returns the
    number of items indexed. Safe to run while the site is up (each batch of rows is
    locked while it is indexed), and to run twice."""
    entries = apps.get_model("organizations", "SearchEntry")
    done = 0
    for kind, (app_label, model_name, _fields) in SOURCES.items():
        rows = apps.get_model(app_label, model_name).objects
        entries.objects.filter(kind=kind).exclude(object_id__in=rows.values("pk")).delete()
        ids = list(rows.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            index(kind, ids[start : start + BATCH], apps=apps)
        done += len(ids)
    return done


# --- Receivers ----------------------------------------------------------------------


@functools.cache
def _watched() -> dict[type[models.Model], set[str]]:
    """Each model searched, and the fields of it whose change changes its entry."""
    watched = {
        installed_apps.get_model(app_label, model_name): {"organization", *fields}
        for app_label, model_name, fields in SOURCES.values()
    }
    watched[installed_apps.get_model("statements", "StatementVersion")] = VERSION_FIELDS
    return watched


def _saved(
    sender: type[models.Model],
    instance: models.Model,
    raw: bool = False,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    if raw:  # loaddata: the rows it needs may not be there yet
        return
    if update_fields is not None and not _watched()[sender] & set(update_fields):
        return
    refresh(instance)


def _deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    kind, pk = _key(instance)
    if kind == "statement" and sender._meta.object_name == "StatementVersion":
        # The statement (or its organization) may be being deleted with it, its entry
        # already gone: rewrite the entry if there is one, never make one.
        index(kind, [pk], create=False)
    else:
        installed_apps.get_model("organizations", "SearchEntry").objects.filter(
            kind=kind, object_id=pk
        ).delete()


def connect() -> None:
    for model in _watched():
        uid = f"saha.search_index.{model._meta.label_lower}"
        post_save.connect(_saved, sender=model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid)


def disconnect() -> None:
    """For tests that need rows the index has not seen (as before an upgrade)."""
    for model in _watched():
        uid = f"saha.search_index.{model._meta.label_lower}"
        post_save.disconnect(sender=model, dispatch_uid=uid)
        post_delete.disconnect(sender=model, dispatch_uid=uid)
