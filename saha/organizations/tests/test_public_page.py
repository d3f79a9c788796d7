"""The organization's public page: its campaigns, latest statements, upcoming events and open
petitions, then its about text and contact; only what is public, only its own; the same
number of queries however much it lists.

Rows are made directly through the models: what is pinned here is what the page shows
of them, not how they are written."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from saha.campaigns.models import Campaign, CampaignStatus
from saha.events.models import Event, EventStatus, Visibility
from saha.organizations.models import Organization
from saha.petitions.models import SHARDS, Petition, PetitionStatus, SignatureCount
from saha.statements.models import Statement, StatementStatus, StatementVersion

# --- Rows --------------------------------------------------------------------------


def make_campaign(organization: Organization, slug: str, **fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "titles": {"en": f"Campaign {slug}", "ar": f"حملة {slug}"},
        "summaries": {"en": f"Summary of {slug}", "ar": f"ملخص {slug}"},
        "status": CampaignStatus.PUBLISHED,
        "published_at": timezone.now(),
        **fields,
    }
    return Campaign.objects.create(organization=organization, slug=slug, **values)


def make_statement(
    organization: Organization,
    slug: str,
    versions: dict[str, dict[str, str]] | None = None,
    **fields: Any,
) -> Statement:
    values: dict[str, Any] = {
        "status": StatementStatus.PUBLISHED,
        "original_language": "en",
        "published_at": timezone.now(),
        **fields,
    }
    statement = Statement.objects.create(organization=organization, slug=slug, **values)
    if versions is None:
        versions = {
            "en": {"title": f"Statement {slug}", "body": "Text."},
            "ar": {"title": f"بيان {slug}", "body": "نص."},
        }
    for language, version in versions.items():
        StatementVersion.objects.create(
            organization=organization,
            statement=statement,
            language=language,
            **{"body": "", **version},
        )
    return statement


def make_event(organization: Organization, slug: str, **fields: Any) -> Event:
    start = fields.pop("starts_at", timezone.now() + dt.timedelta(days=3))
    values: dict[str, Any] = {
        "titles": {"en": f"Event {slug}", "ar": f"فعالية {slug}"},
        "kind": "rally",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "time_zone": "Asia/Beirut",
        "status": EventStatus.PUBLISHED,
        "visibility": Visibility.PUBLIC,
        **fields,
    }
    return Event.objects.create(organization=organization, slug=slug, **values)


def make_petition(
    organization: Organization, slug: str, *, signed: int = 0, **fields: Any
) -> Petition:
    values: dict[str, Any] = {
        "titles": {"en": f"Petition {slug}", "ar": f"عريضة {slug}"},
        "status": PetitionStatus.OPEN,
        **fields,
    }
    petition = Petition.objects.create(organization=organization, slug=slug, **values)
    SignatureCount.objects.bulk_create(
        SignatureCount(petition=petition, shard=n, verified=signed if n == 0 else 0)
        for n in range(SHARDS)
    )
    return petition


def one_of_each(organization: Organization, n: int) -> None:
    make_campaign(organization, f"campaign-{n}")
    make_statement(organization, f"statement-{n}")
    make_event(organization, f"event-{n}")
    make_petition(organization, f"petition-{n}", signed=n)


def get(organization: Organization, language: str = "en", **params: str) -> Any:
    return_url = reverse("organizations:public", args=[organization.slug])
    return _client().get(return_url, {"lang": language, **params})


def _client() -> Any:
    from django.test import Client

    return Client()


def body_of(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


def section(body: str, name: str) -> str:
    """The HTML of one section of the page, or "" when the page has none."""
    found = re.search(rf'<section class="org-section org-{name}".*?</section>', body, re.S)
    return found.group(0) if found else ""


# --- What the page shows ------------------------------------------------------------


def test_the_page_lists_each_kind_in_order_with_links_to_all(org_a: Organization) -> None:
    org_a.about = {"en": "We keep the beach open.", "ar": "نحافظ على الشاطئ مفتوحًا."}
    org_a.contact_email = "hello@example.org"
    org_a.save(update_fields=["about", "contact_email"])
    one_of_each(org_a, 1)

    body = body_of(get(org_a))

    positions = [
        body.index(f'class="org-section org-{name}"')
        for name in ("campaigns", "statements", "events", "petitions", "about", "contact")
    ]
    assert positions == sorted(positions)
    slug = org_a.slug
    for url in (
        reverse("campaigns:list", args=[slug]),
        reverse("campaigns:campaign", args=[slug, "campaign-1"]),
        reverse("statements:list", args=[slug]),
        reverse("statements:statement", args=[slug, "statement-1"]),
        reverse("events:list", args=[slug]),
        reverse("events:event", args=[slug, "event-1"]),
        reverse("petitions:list", args=[slug]),
        reverse("petitions:petition", args=[slug, "petition-1"]),
    ):
        assert f'href="{url}"' in body
    assert "Summary of campaign-1" in body
    assert "We keep the beach open." in body
    assert 'href="mailto:hello@example.org"' in body
    assert 'role="search"' in body and 'name="q"' in body
    assert f'action="{reverse("organizations:search", args=[slug])}"' in body
    assert "<script" not in body


def test_in_arabic_titles_and_summaries_are_the_arabic_ones(org_a: Organization) -> None:
    one_of_each(org_a, 1)

    body = body_of(get(org_a, "ar"))

    assert '<html lang="ar" dir="rtl">' in body
    for text in ("حملة campaign-1", "ملخص campaign-1", "بيان statement-1", "فعالية event-1"):
        assert text in body
    assert "عريضة petition-1" in body
    assert "Campaign campaign-1" not in body and "Statement statement-1" not in body


def test_a_statement_without_the_readers_language_shows_its_original_marked(
    org_a: Organization,
) -> None:
    make_statement(
        org_a,
        "only-french",
        {"fr": {"title": "Déclaration sur la plage", "place": "Beyrouth"}},
        original_language="fr",
    )

    statements = section(body_of(get(org_a, "ar")), "statements")

    assert 'lang="fr" dir="ltr">Déclaration sur la plage</a>' in statements
    assert 'lang="fr" dir="ltr">Beyrouth</bdi>' in statements


def test_a_campaign_title_missing_in_the_readers_language_is_marked_with_its_own(
    org_a: Organization,
) -> None:
    make_campaign(org_a, "arabic-only", titles={"ar": "حملة الشاطئ"}, summaries={})

    campaigns = section(body_of(get(org_a, "en")), "campaigns")

    assert 'lang="ar" dir="rtl">حملة الشاطئ</a>' in campaigns


def test_statements_the_latest_five_with_date_line_and_withdrawn_mark(
    org_a: Organization,
) -> None:
    today = dt.date(2025, 3, 10)
    for n in range(7):
        make_statement(org_a, f"s{n}", dated=today - dt.timedelta(days=n))
    StatementVersion.objects.filter(statement__slug="s0", language="en").update(place="Beirut")
    Statement.objects.filter(slug="s1").update(status=StatementStatus.WITHDRAWN)

    statements = section(body_of(get(org_a)), "statements")

    shown = re.findall(r"/statements/(s\d)/", statements)
    assert shown == ["s0", "s1", "s2", "s3", "s4"]
    assert '<bdi>Beirut</bdi>, <time datetime="2025-03-10">March 10, 2025</time>' in statements
    assert statements.count('class="badge withdrawn"') == 1


def test_the_statements_feed_is_announced_in_the_readers_language(org_a: Organization) -> None:
    make_statement(org_a, "s")
    for language in ("ar", "fr"):
        body = body_of(get(org_a, language))
        feed = reverse("statements:feed", args=[org_a.slug, language])
        assert re.search(
            rf'<link rel="alternate" type="application/atom\+xml" href="http://[^"]+{feed}"',
            body,
        )


def test_campaigns_running_first_then_ended_the_newest_first(org_a: Organization) -> None:
    now = timezone.now()
    make_campaign(org_a, "old-running", published_at=now - dt.timedelta(days=30))
    make_campaign(
        org_a, "new-ended", status=CampaignStatus.ENDED, published_at=now - dt.timedelta(days=1)
    )
    make_campaign(org_a, "new-running", published_at=now - dt.timedelta(days=2))
    make_campaign(
        org_a, "old-ended", status=CampaignStatus.ENDED, published_at=now - dt.timedelta(days=60)
    )

    campaigns = section(body_of(get(org_a)), "campaigns")

    shown = re.findall(r"/campaigns/([a-z-]+)/\"", campaigns)
    assert shown == ["new-running", "old-running", "new-ended", "old-ended"]
    assert campaigns.count('class="badge ended"') == 2


def test_events_upcoming_five_in_their_own_time_zone(org_a: Organization) -> None:
    soon = timezone.now() + dt.timedelta(days=1)
    for n in range(6):
        make_event(org_a, f"e{n}", starts_at=soon + dt.timedelta(days=n))
    make_event(
        org_a,
        "past",
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=1),
    )
    Event.objects.filter(slug="e0").update(time_zone="America/Montreal")

    events = section(body_of(get(org_a)), "events")

    assert re.findall(r"/events/([a-z0-9-]+)/\"", events) == ["e0", "e1", "e2", "e3", "e4"]
    local = soon.astimezone(zoneinfo.ZoneInfo("America/Montreal"))
    assert f'datetime="{local.isoformat()}"' in events
    assert "America/Montreal" in events


def test_open_petitions_with_their_public_count(org_a: Organization) -> None:
    make_petition(org_a, "counted", signed=1234, goal=5000)
    make_petition(org_a, "closed", status=PetitionStatus.CLOSED, signed=3)
    make_petition(org_a, "past-deadline", deadline=timezone.now() - dt.timedelta(days=1))
    unverified = make_petition(org_a, "unverified-too", count_unverified=True)
    SignatureCount.objects.filter(petition=unverified, shard=3).update(unverified=5)

    petitions = section(body_of(get(org_a)), "petitions")

    assert re.findall(r"/petitions/([a-z-]+)/\"", petitions) == ["unverified-too", "counted"]
    assert 'data-count="1234"' in petitions and 'data-count="5"' in petitions
    assert '<progress max="5000" value="1234"' in petitions


def test_open_graph_describes_the_organization(org_a: Organization) -> None:
    org_a.about = {"en": "We keep the beach open. " * 20}
    org_a.save(update_fields=["about"])

    body = body_of(get(org_a))

    page_url = f'http://[^"]+{reverse("organizations:public", args=[org_a.slug])}'
    assert re.search(rf'<meta property="og:url" content="{page_url}">', body)
    assert f'<meta property="og:title" content="{org_a.names["en"]}">' in body
    description = re.search(r'<meta property="og:description" content="([^"]*)">', body)
    assert description and description.group(1).startswith("We keep the beach open.")
    assert len(description.group(1)) <= 200


def test_an_organization_with_nothing_public_shows_no_empty_section(org_a: Organization) -> None:
    make_campaign(org_a, "draft", status=CampaignStatus.DRAFT)
    make_statement(org_a, "draft", status=StatementStatus.DRAFT)

    body = body_of(get(org_a))

    assert "org-section" not in body
    assert "application/atom+xml" not in body  # no statement to follow yet
    assert 'role="search"' in body


# --- Only what is public, only its own -----------------------------------------------


def test_drafts_unlisted_and_other_organizations_are_absent(
    org_a: Organization, org_b: Organization
) -> None:
    one_of_each(org_a, 1)
    make_campaign(org_a, "draft-campaign", status=CampaignStatus.DRAFT)
    make_statement(org_a, "draft-statement", status=StatementStatus.DRAFT)
    make_statement(
        org_a,
        "scheduled-statement",
        status=StatementStatus.SCHEDULED,
        publish_at=timezone.now() + dt.timedelta(days=1),
    )
    make_event(org_a, "draft-event", status=EventStatus.DRAFT)
    make_event(org_a, "unlisted-event", visibility=Visibility.UNLISTED)
    make_event(org_a, "cancelled-event", status=EventStatus.CANCELLED)
    make_petition(org_a, "draft-petition", status=PetitionStatus.DRAFT)
    make_campaign(org_b, "b-campaign")
    make_statement(org_b, "b-statement")
    make_event(org_b, "b-event")
    make_petition(org_b, "b-petition")

    for language in ("en", "ar"):
        body = body_of(get(org_a, language))
        for slug in ("campaign-1", "statement-1", "event-1", "petition-1"):
            assert f"/{slug}/" in body
        assert "draft-" not in body
        assert "scheduled-statement" not in body
        assert "unlisted-event" not in body and "cancelled-event" not in body
        assert "b-campaign" not in body and "b-statement" not in body
        assert "b-event" not in body and "b-petition" not in body
        assert "/o/org-b/" not in body


def test_an_unknown_organization_is_a_404(db: Any) -> None:
    response = _client().get("/o/nobody-here/")
    assert response.status_code == 404


def test_the_page_is_read_only(org_a: Organization) -> None:
    response = _client().post(reverse("organizations:public", args=[org_a.slug]))
    assert response.status_code == 405


# --- Cost ----------------------------------------------------------------------------


def queries_for(organization: Organization) -> int:
    with CaptureQueriesContext(connection) as captured:
        body_of(get(organization))
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_items(org_a: Organization) -> None:
    one_of_each(org_a, 1)
    with_one = queries_for(org_a)

    for n in range(2, 12):
        one_of_each(org_a, n)
    with_many = queries_for(org_a)

    assert with_many == with_one
    # The organization, campaigns, statements and their versions, events, petitions
    # and their counters.
    assert with_one <= 7
