"""The public search's index follows every write of a searched text: an edit is found by its
new words and no longer by its old ones, a deleted item is gone, a statement is found by
each of its versions; an installation that had content before the index finds it after
the upgrade; and a search costs the same few queries however many items there are."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.campaigns import services as campaigns
from saha.events import organizer as events
from saha.events.models import Event, EventStatus
from saha.organizations import search, search_index
from saha.organizations.models import Organization, SearchEntry
from saha.organizations.tests.test_public_page import (
    make_campaign,
    make_event,
    make_petition,
    make_statement,
)
from saha.petitions import organizer as petitions
from saha.statements import services as statements
from saha.statements.models import Statement, StatementStatus, StatementVersion
from saha.statements.services import VersionText
from saha.supporters.tests.people_factories import postgres_only


def found(organization: Organization, typed: str) -> dict[str, list[str]]:
    """What a search finds, by kind: {"event": ["vigil"], ...}."""
    groups = search.search(organization, search.parse_query(typed))
    return {
        group.kind: [hit.url.rstrip("/").rsplit("/", 1)[1] for hit in group.hits]
        for group in groups
    }


def entry(kind: str, item: Any) -> SearchEntry:
    return SearchEntry.objects.get(kind=kind, object_id=item.pk)


@pytest.fixture
def unindexed() -> Iterator[None]:
    """Rows written as before the index existed (an installation being upgraded)."""
    search_index.disconnect()
    try:
        yield
    finally:
        search_index.connect()


# --- Edits ----------------------------------------------------------------------------


def test_a_renamed_event_is_found_by_its_new_title_not_the_old(org_a: Organization) -> None:
    event = make_event(org_a, "vigil", titles={"en": "Candle vigil", "ar": "وقفة بالشموع"})
    assert found(org_a, "candle") == {"event": ["vigil"]}

    events.update_event(
        actor="test", event=event, titles={"en": "Lantern march", "ar": "مسيرة الفوانيس"}
    )

    assert found(org_a, "candle") == {}
    assert found(org_a, "بالشموع") == {}
    assert found(org_a, "lantern") == {"event": ["vigil"]}
    assert found(org_a, "الفوانيس") == {"event": ["vigil"]}


def test_an_event_is_found_by_its_new_description_venue_and_address(org_a: Organization) -> None:
    event = make_event(org_a, "rally", titles={"en": "Rally"})

    events.update_event(
        actor="test",
        event=event,
        descriptions={"fr": "Rendez-vous à l'Église"},
        venue_name="Martyrs' Square",
        address="Downtown",
    )

    for typed in ("eglise", "martyrs", "downtown"):
        assert found(org_a, typed) == {"event": ["rally"]}


def test_an_edited_campaign_and_petition_are_found_by_their_new_texts(
    org_a: Organization,
) -> None:
    campaign = make_campaign(org_a, "water", titles={"en": "Water"})
    petition = make_petition(org_a, "water", titles={"en": "Water"})

    campaigns.update_campaign(
        actor="test", campaign=campaign, descriptions={"ar": "الكهرباء للجميع"}
    )
    petitions.update_petition(
        actor="test", petition=petition, texts={"en": "Electricity"}, targets="The Minister"
    )

    assert found(org_a, "الكهرباء") == {"campaign": ["water"]}
    assert found(org_a, "electricity") == {"petition": ["water"]}
    assert found(org_a, "minister") == {"petition": ["water"]}


def test_a_statement_version_added_edited_and_removed_is_followed(org_a: Organization) -> None:
    statement = statements.create_statement(
        actor="test",
        organization=org_a,
        slug="beach",
        versions={"en": VersionText(title="The beach", body="Keep it open.")},
    )
    statements.publish(actor="test", statement=statement)
    assert found(org_a, "beach") == {"statement": ["beach"]}

    statements.save_version(
        actor="test",
        statement=statement,
        language="ar",
        text=VersionText(title="الشاطئ", body="يبقى مفتوحاً للجميع"),
    )
    assert found(org_a, "مفتوحا") == {"statement": ["beach"]}

    statements.save_version(
        actor="test",
        statement=statement,
        language="ar",
        text=VersionText(title="الشاطئ", body="نظيف وآمن"),
    )
    assert found(org_a, "مفتوحا") == {}
    assert found(org_a, "امن") == {"statement": ["beach"]}

    statements.remove_version(actor="test", statement=statement, language="ar")
    assert found(org_a, "امن") == {}
    assert found(org_a, "beach") == {"statement": ["beach"]}


def test_a_text_changed_by_update_is_found_once_refreshed(org_a: Organization) -> None:
    event = make_event(org_a, "vigil", titles={"en": "Vigil"})
    Event.objects.filter(pk=event.pk).update(titles={"en": "Picnic"})
    assert found(org_a, "picnic") == {}

    search_index.refresh(event)

    assert found(org_a, "picnic") == {"event": ["vigil"]}
    version = StatementVersion.objects.get(statement=make_statement(org_a, "s"), language="en")
    StatementVersion.objects.filter(pk=version.pk).update(body="Lighthouse")
    search_index.refresh(version)
    assert found(org_a, "lighthouse") == {"statement": ["s"]}


def test_a_save_that_changes_no_searched_text_leaves_the_index_alone(
    org_a: Organization,
) -> None:
    event = make_event(org_a, "vigil")
    statement = make_statement(org_a, "s")

    with CaptureQueriesContext(connection) as captured:
        event.capacity = 50
        event.save(update_fields=["capacity"])
        statement.original_language = "ar"
        statement.save(update_fields=["original_language"])

    assert not [q for q in captured.captured_queries if "searchentry" in q["sql"]]


# --- Status is not indexed: the public filters decide ------------------------------------


def test_a_status_moved_by_a_conditional_update_needs_no_reindexing(
    org_a: Organization,
) -> None:
    event = events.create_event(
        actor="test",
        organization=org_a,
        slug="vigil",
        titles={"en": "Lighthouse vigil"},
        kind="rally",
        starts_at=timezone.now() + dt.timedelta(days=2),
        ends_at=timezone.now() + dt.timedelta(days=2, hours=1),
        time_zone="Asia/Beirut",
    )
    statement = make_statement(
        org_a, "s", {"en": {"title": "Lighthouse"}}, status=StatementStatus.DRAFT
    )
    assert found(org_a, "lighthouse") == {}

    events.publish(actor="test", event=event)
    statements.publish(actor="test", statement=statement)
    assert found(org_a, "lighthouse") == {"statement": ["s"], "event": ["vigil"]}

    events.cancel_event(actor="test", event=event)
    assert found(org_a, "lighthouse") == {"statement": ["s"]}


def test_the_count_of_more_matches_never_counts_what_is_not_public(
    org_a: Organization, org_b: Organization
) -> None:
    for n in range(search.SHOWN_PER_KIND + 2):
        make_event(org_a, f"public-{n}", titles={"en": "Lighthouse"})
        make_event(org_a, f"draft-{n}", titles={"en": "Lighthouse"}, status=EventStatus.DRAFT)
        make_event(org_b, f"theirs-{n}", titles={"en": "Lighthouse"})

    (events_found,) = search.search(org_a, search.parse_query("lighthouse"))

    assert len(events_found.hits) == search.SHOWN_PER_KIND and events_found.more == 2
    assert all("/public-" in hit.url for hit in events_found.hits)


# --- Deletions ----------------------------------------------------------------------------


def test_a_deleted_item_disappears(org_a: Organization) -> None:
    draft = events.create_event(
        actor="test",
        organization=org_a,
        slug="vigil",
        titles={"en": "Lighthouse"},
        kind="rally",
        starts_at=timezone.now() + dt.timedelta(days=2),
        ends_at=timezone.now() + dt.timedelta(days=2, hours=1),
        time_zone="Asia/Beirut",
    )
    statement = make_statement(org_a, "s", {"en": {"title": "Lighthouse"}})
    campaign = make_campaign(org_a, "c", titles={"en": "Lighthouse"})
    assert SearchEntry.objects.filter(organization=org_a).count() == 3

    assert events.delete_draft(actor="test", event=draft)
    statement.delete()
    campaign.delete()

    assert not SearchEntry.objects.filter(organization=org_a).exists()
    assert found(org_a, "lighthouse") == {}


def test_a_deleted_organization_takes_its_entries_and_nobody_elses(
    org_a: Organization, org_b: Organization
) -> None:
    make_statement(org_a, "s")
    make_event(org_a, "e")
    make_statement(org_b, "s")

    org_a.delete()

    assert list(SearchEntry.objects.values_list("organization_id", flat=True)) == [org_b.pk]


# --- The upgrade ------------------------------------------------------------------------


def one_of_each(organization: Organization, word: str) -> None:
    make_campaign(organization, "c", titles={"ar": word})
    make_statement(organization, "s", {"ar": {"title": word, "body": "نص"}})
    make_event(organization, "e", descriptions={"ar": word})
    make_petition(organization, "p", texts={"ar": word}, targets="")


ALL_FOUND = {"campaign": ["c"], "statement": ["s"], "event": ["e"], "petition": ["p"]}


def test_what_was_there_before_the_upgrade_is_found_after_it(
    org_a: Organization, unindexed: None
) -> None:
    one_of_each(org_a, "المَدرسة")
    assert found(org_a, "المدرسه") == {}

    assert search_index.rebuild() == 4

    assert found(org_a, "المدرسه") == ALL_FOUND


def test_the_migration_indexes_with_the_models_as_they_were(
    org_a: Organization, unindexed: None
) -> None:
    one_of_each(org_a, "المَدرسة")
    # An entry left by an item deleted while nothing was listening.
    SearchEntry.objects.create(organization=org_a, kind="event", object_id=10**9)
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(("organizations", "0003_search_backfill"))

    search_index.rebuild(apps=state.apps)
    search_index.rebuild(apps=state.apps)  # twice: the same

    assert found(org_a, "المدرسه") == ALL_FOUND
    assert SearchEntry.objects.count() == 4  # one per item, none for what is gone


def test_an_entry_is_capped(org_a: Organization) -> None:
    long = "word " * 10_000
    make_event(
        org_a, "long", titles={"en": "Long"}, descriptions=dict.fromkeys(["ar", "en", "fr"], long)
    )

    assert len(entry("event", Event.objects.get(slug="long")).folded) == search_index.MAX_FOLDED


# --- Cost -------------------------------------------------------------------------------


def test_a_search_costs_four_queries_however_many_items(org_a: Organization) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            found(org_a, "lighthouse")
        return len(captured.captured_queries)

    one_of_each(org_a, "Lighthouse")
    few = queries()
    for n in range(40):
        make_campaign(org_a, f"c{n}", titles={"en": f"Lighthouse {n}"})
        make_statement(org_a, f"s{n}", {"en": {"title": "Lighthouse"}, "fr": {"title": "Phare"}})
        make_event(org_a, f"e{n}", descriptions={"en": "The lighthouse"})
        make_petition(org_a, f"p{n}", texts={"en": "At the lighthouse"})

    assert few == queries() == 4  # one per kind: matches, their texts and their count


def test_the_statements_count_is_right_whatever_their_versions(org_a: Organization) -> None:
    for n in range(25):
        versions = {"en": {"title": f"Lighthouse {n}"}}
        if n % 2:
            versions["ar"] = {"title": "منارة"}
            versions["fr"] = {"title": "Phare"}
        make_statement(org_a, f"s{n}", versions, dated=dt.date(2025, 1, 1) + dt.timedelta(n))

    (group,) = search.search(org_a, search.parse_query("lighthouse"))

    assert [hit.url.rstrip("/").rsplit("/", 1)[1] for hit in group.hits] == [
        f"s{n}" for n in range(24, 4, -1)
    ]
    assert group.more == 5


# --- At once ---------------------------------------------------------------------------


def at_once(*works: Any, names: list[str] | None = None) -> None:
    """Each of `works` in its own thread and connection, released together."""
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work: Any) -> None:
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(work,), name=name)
        for work, name in zip(works, names or [None] * len(works), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_first_indexings_at_once_leave_one_entry(org_a: Organization) -> None:
    search_index.disconnect()
    try:
        statement = make_statement(org_a, "s", {"en": {"title": "Lighthouse"}})
    finally:
        search_index.connect()

    at_once(*[lambda: search_index.refresh(Statement.objects.get(pk=statement.pk))] * 4)

    assert SearchEntry.objects.filter(kind="statement", object_id=statement.pk).count() == 1
    assert found(org_a, "lighthouse") == {"statement": ["s"]}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_edit_during_a_rebuild_is_never_overwritten_by_its_old_text(
    org_a: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a rebuild that has read an event's row, and writes its entry a moment later
    event = make_event(org_a, "vigil", titles={"en": "Candle"})
    read = threading.Event()
    read_rows = search_index.READERS["event"]

    def slow_read(apps: Any, ids: list[int]) -> Any:
        texts = read_rows(apps, ids)
        if threading.current_thread().name == "rebuild":
            read.set()
            time.sleep(0.5)
        return texts

    monkeypatch.setitem(search_index.READERS, "event", slow_read)

    # when the event is renamed in that moment
    def rename() -> None:
        assert read.wait(timeout=10)
        events.update_event(
            actor="test", event=Event.objects.get(pk=event.pk), titles={"en": "Lantern"}
        )

    at_once(
        functools.partial(search_index.index, "event", [event.pk]),
        rename,
        names=["rebuild", "edit"],
    )

    # then the rename waited for the rebuild's batch, and its entry is the last written
    assert entry("event", event).titles == "lantern"
