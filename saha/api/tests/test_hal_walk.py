"""A generic HAL client walks the API from the entry point, following only the
links it is given (never building a URL), and every link it follows answers.

The data is made through the services, as the web forms make it: people with
tags and consents, an event with an RSVP, a petition with a signature, a
segment, a broadcast. `make_world` is shared with the isolation, no-500 and
partner-consent tests.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from saha.api.tests.conftest import ApiClient
from saha.events import organizer
from saha.events import services as events
from saha.messaging import broadcasts
from saha.organizations.models import Organization
from saha.petitions import services as petitions
from saha.petitions.models import PetitionStatus
from saha.supporters import subject
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import ConsentSource, Tagging
from saha.supporters.services import PersonData, upsert_person

pytestmark = pytest.mark.django_db

# More people than a page holds, so the walk follows `next`.
PEOPLE = 27
MAX_REQUESTS = 1500
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class World:
    """The rows of one organization, by the model's name ("Person": [...])."""

    organization: Organization
    rows: dict[str, list[Model]] = field(default_factory=dict)

    def add(self, *rows: Model) -> None:
        for row in rows:
            self.rows.setdefault(type(row).__name__, []).append(row)

    def uuids(self) -> set[str]:
        return {str(row.uuid) for rows in self.rows.values() for row in rows}  # type: ignore[attr-defined]


def make_world(organization: Organization, *, people: int = 3, label: str = "") -> World:
    """Everything the API exposes, made through the services; `label` keeps two
    organizations' addresses and names apart."""
    world, actor = World(organization), f"test:{organization.slug}"
    tag = label or organization.slug
    for n in range(people):
        found = upsert_person(
            organization=organization,
            actor=actor,
            source="form",
            data=PersonData(
                email=f"walk{n}.{tag}@example.org",
                given_name=f"Walker{n}",
                family_name=f"Halson{tag.title().replace('-', '')}",
                language="ar",
                tags=[f"volunteer-{tag}", f"donor-{tag}"] if n % 2 == 0 else [f"donor-{tag}"],
                consents=[ConsentGrant(channel="email", wording="Yes", source=ConsentSource.FORM)],
            ),
        )
        world.add(found.person)
    for person in world.rows["Person"]:
        for tagging in Tagging.objects.filter(person=person).select_related("tag"):
            world.add(tagging)
            if tagging.tag not in world.rows.get("Tag", []):
                world.add(tagging.tag)
    start = timezone.now() + dt.timedelta(days=3)
    event = organizer.create_event(
        actor=actor,
        organization=organization,
        slug=f"walk-{tag}",
        titles={"en": f"Walk rally {tag}", "ar": "مسيرة"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        time_zone="Asia/Beirut",
    )
    organizer.publish(actor=actor, event=event)
    answer = events.rsvp(
        event=event,
        data=PersonData(email=f"walk0.{tag}@example.org", given_name="Walker0", language="ar"),
        notify=False,
    )
    world.add(event, answer.rsvp)
    petition = petitions.create_petition(
        actor=actor, organization=organization, slug=f"walk-{tag}", titles={"en": "Walk on"}
    )
    petitions.set_status(actor=actor, petition=petition, status=PetitionStatus.OPEN)
    signed = petitions.sign(
        petition=petition,
        data=PersonData(email=f"walk1.{tag}@example.org", given_name="Walker1", language="en"),
    )
    world.add(petition, signed.signature)
    segment = subject.save_segment(
        actor=actor, organization=organization, name=f"Walkers {tag}", definition={}
    )
    broadcast = broadcasts.create_broadcast(
        actor=actor,
        organization=organization,
        data=broadcasts.BroadcastData(
            name=f"Walk news {tag}", channel="email", segment=segment, fallback_language="ar"
        ),
    )
    world.add(segment, broadcast)
    return world


@dataclass
class Walk:
    """What a walk saw: each href fetched, its status and body."""

    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def api_base() -> str:
    return f"{settings.SAHA_BASE_URL}/api/v2"


def links_of(document: Any) -> Iterator[tuple[str, str]]:
    """(rel, href) of every link in `_links`, at the top and in embedded items."""
    if isinstance(document, list):
        for entry in document:
            yield from links_of(entry)
        return
    if not isinstance(document, dict):
        return
    for rel, value in (document.get("_links") or {}).items():
        if rel == "curies":
            continue
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, dict) and isinstance(one.get("href"), str):
                yield rel, one["href"]
    for value in (document.get("_embedded") or {}).values():
        yield from links_of(value)


def check_item(item: dict[str, Any], where: str, problems: list[str]) -> None:
    identifiers = item.get("identifiers") or []
    if not any(str(one).startswith("saha:") for one in identifiers):
        problems.append(f"{where}: no saha: identifier")
    if not any(str(one).startswith("action_network:") for one in identifiers):
        problems.append(f"{where}: no action_network: identifier")
    for name in ("created_date", "modified_date"):
        value = item.get(name)
        if not (isinstance(value, str) and TIMESTAMP.match(value)):
            problems.append(f"{where}: {name} is {value!r}")
    href = ((item.get("_links") or {}).get("self") or {}).get("href", "")
    if not href.startswith(api_base() + "/") or href.endswith("/"):
        problems.append(f"{where}: _links.self is {href!r}")


def check_collection(page: dict[str, Any], where: str, problems: list[str]) -> None:
    for name in ("page", "per_page", "total_pages", "total_records"):
        if not isinstance(page.get(name), int):
            problems.append(f"{where}: {name} is {page.get(name)!r}")
    links = page.get("_links") or {}
    if not (links.get("self") or {}).get("href", "").startswith(api_base()):
        problems.append(f"{where}: no absolute _links.self")
    for key, items in page["_embedded"].items():
        listed = [link.get("href") for link in links.get(key, [])]
        shown = [((item.get("_links") or {}).get("self") or {}).get("href") for item in items]
        if listed != shown:
            problems.append(f"{where}: _links.{key} does not list the embedded items")


def walk(api: ApiClient, start: str = "") -> Walk:
    """Breadth first from the entry point; only links on the API's own base are followed."""
    seen, queue, result = set(), [start or api_base()], Walk()
    helpers: set[str] = set()
    while queue:
        href = queue.pop(0)
        if href in seen:
            continue
        seen.add(href)
        assert len(seen) <= MAX_REQUESTS, "the walk does not end: links keep changing"
        response = api.get(href)
        data = response.json()
        result.answers[href] = (response.status_code, data)
        if response.status_code != 200:
            # A helper (POST only) may answer 405 to a GET; anything else must be 200.
            if not (href in helpers and response.status_code == 405 and "code" in data):
                result.problems.append(f"GET {href}: {response.status_code} {data}")
            continue
        if "identifiers" in data:
            result.items.append(data)
            check_item(data, href, result.problems)
        if "_embedded" in data:
            check_collection(data, href, result.problems)
        for name, value in (data.get("_embedded") or {}).items():
            result.collections.setdefault(href, data)
            for item in value if isinstance(value, list) else [value]:
                result.items.append(item)
                check_item(item, f"{href} _embedded {name}", result.problems)
        for rel, link in links_of(data):
            if not link.startswith("http"):
                result.problems.append(f"{href}: {rel} is not absolute: {link!r}")
            elif (
                link == api_base()
                or link.startswith(api_base() + "/")
                or (link.startswith(api_base() + "?"))
            ):
                if rel.endswith("_helper"):
                    helpers.add(link)
                queue.append(link)
    return result


@pytest.fixture
def unlimited(settings: Any) -> None:
    settings.SAHA_API_RATE_PER_MINUTE = 100_000


@pytest.fixture
def other(org_b: Organization) -> World:
    """Another organization's rows: a walk with A's token never reaches them."""
    return make_world(org_b, people=2)


@pytest.fixture
def world(org_a: Organization, other: World) -> World:
    return make_world(org_a, people=PEOPLE)


def reached(result: Walk) -> set[str]:
    return {
        one.split(":", 1)[1]
        for item in result.items
        for one in item.get("identifiers", [])
        if str(one).startswith("saha:")
    }


def test_every_link_from_the_entry_point_answers_and_every_item_is_whole(
    api: ApiClient, world: World, unlimited: None
) -> None:
    result = walk(api)
    assert result.problems == []
    entry = result.answers[api_base()][1]
    collections = [rel for rel in entry["_links"] if rel.startswith("osdi:")]
    assert {"osdi:people", "osdi:tags", "osdi:events", "osdi:petitions"} <= set(collections)
    for rel in collections:
        status, data = result.answers[entry["_links"][rel]["href"]]
        assert status == 200, rel
        assert data["total_records"] >= 1, f"{rel} lists nothing of what was made"


def test_the_walk_reaches_every_row_of_the_organization_and_none_of_another(
    api: ApiClient, world: World, other: World, unlimited: None
) -> None:
    found = reached(walk(api))
    assert not found & other.uuids()
    unreached = {
        name: [str(row.uuid) for row in rows if str(row.uuid) not in found]  # type: ignore[attr-defined]
        for name, rows in world.rows.items()
    }
    assert {name: ids for name, ids in unreached.items() if ids} == {}


def test_the_walk_follows_next_pages(api: ApiClient, world: World, unlimited: None) -> None:
    result = walk(api)
    pages = {
        data["page"]
        for href, data in result.collections.items()
        if href.startswith(api_base() + "/people") and data["total_records"] >= PEOPLE
    }
    assert {1, 2} <= pages
