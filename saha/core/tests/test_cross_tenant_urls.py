"""A member of organization A gets 404 on every URL of organization B.

The test walks every URL pattern of the project. Each one must be classified
below: organization-scoped patterns are requested for organization B by a
member of A (GET and POST), and must answer 404; the others are listed with
the reason they are not organization pages. A new pattern that nobody
classified fails the test, so it cannot slip through unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from saha.organizations.models import Invitation
from saha.organizations.services import invite_member

# Patterns that are not pages of one organization, with why.
NOT_ORGANIZATION_PAGES = {
    "": "landing page",
    "healthz": "health check, no data of any organization",
    "i18n/setlang/": "language switch",
    "manage/": "lists only the user's own organizations",
    "manage/new/": "creates a new organization",
    "invitations/<str:token>/": "reached by a secret token, tested in organizations",
    "invitations/accept/": "acts on the invitation in the visitor's own session",
    "o/<slug:slug>/": "the public page: public by design",
    "o/<slug:slug>/events/": "public events of the organization: public by design",
    "o/<slug:slug>/events/<slug:event>/": "a public event page, the pair tested in events",
    "o/<slug:slug>/events/<slug:event>/event.ics": "a public event's calendar file",
    "o/<slug:slug>/events/calendar.ics": "the organization's public events as a feed",
    "o/<slug:slug>/events/<slug:event>/thanks/": "after an RSVP: the same words for everyone",
    "t/<str:token>/": "ticket: a signed RSVP token, forgeries tested in events",
    "o/<slug:slug>/petitions/": "open petitions of the organization: public by design",
    "o/<slug:slug>/petitions/<slug:petition>/": "a public petition, the pair tested in petitions",
    "o/<slug:slug>/petitions/<slug:petition>/thanks/": "after signing: the same words for everyone",
    "o/<slug:slug>/petitions/<slug:petition>/widget/": "a public petition's embeddable counter",
    "o/<slug:slug>/petitions/<slug:petition>/count.json": "a public petition's counter",
    "s/<str:token>/": "signature confirmation: a signed token, forgeries tested in petitions",
    "o/<slug:slug>/statements/": "published and withdrawn statements: public by design",
    "o/<slug:slug>/statements/<slug:statement>/": "a public statement (tested in statements)",
    "o/<slug:slug>/statements/<slug:statement>/<slug:language>/": "a public statement's version",
    "o/<slug:slug>/statements/feed.atom": "the organization's public statements as an Atom feed",
    "o/<slug:slug>/statements/feed/<slug:language>.atom": "the same feed in one language",
    "o/<slug:slug>/campaigns/<slug:campaign>/feed.atom": "a public campaign's statements as a feed",
    "o/<slug:slug>/campaigns/<slug:campaign>/feed/<slug:language>.atom": "the same, one language",
    "o/<slug:slug>/search/": "search over the organization's public content: public by design",
    "o/<slug:slug>/campaigns/": "published and ended campaigns: public by design",
    "o/<slug:slug>/campaigns/<slug:campaign>/": "a public campaign hub (drafts: 404)",
    "o/<slug:slug>/campaigns/<slug:campaign>/joined/": "after joining: the same words for everyone",
    "o/<slug:slug>/volunteer/": "the public offer form: public by design",
    "o/<slug:slug>/volunteer/thanks/": "after offering: the same words for everyone",
    "o/<slug:slug>/needs/<int:pk>/": "a public need and its shifts",
    "o/<slug:slug>/needs/<int:pk>/thanks/": "after a shift sign-up: the same words for all",
    "v/<str:token>/": "a volunteer's own offer: a signed token, forgeries tested in volunteers",
    "v/<str:token>/respond/": "a volunteer's answer to an invitation: a signed token",
    "media/<path:path>": "uploaded public files (logos)",
    "c/<str:token>/": "double opt-in link: a signed token, tested in messaging",
    "u/<str:token>/": "unsubscribe: a signed delivery token, forgeries tested in messaging",
    "u/<str:token>/preferences/": "preference page: a signed delivery token, tested in messaging",
    "hooks/<slug:org>/<str:key>/sms/": "inbound SMS: the organization's webhook key",
    "hooks/<slug:org>/<str:key>/email-events/": "bounces: the organization's webhook key",
    "hooks/<slug:org>/<str:key>/unsubscribe-email/": "mailto: the organization's webhook key",
}
ALLAUTH_PREFIX = "accounts/"
# The open API: a token belongs to one organization and reaches nothing else;
# saha/api/tests/test_isolation.py asks every resource of B with a token of A.
API_PREFIX = "^api/v2"


def walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def organization_patterns() -> list[tuple[str, URLPattern]]:
    found, unclassified = [], []
    for route, pattern in walk(get_resolver()):
        if route.startswith((ALLAUTH_PREFIX, API_PREFIX)) or route in NOT_ORGANIZATION_PAGES:
            continue
        if "<slug:slug>" in route and route.startswith("manage/"):
            found.append((route, pattern))
        else:
            unclassified.append(route)
    assert unclassified == [], f"classify these URL patterns in {__name__}: {unclassified}"
    return found


# Which object of organization B fills `<int:pk>`, by the route's path (first match).
PK_OBJECTS = [
    ("api/tokens/", "api_token"),
    ("api/webhooks/deliveries/", "webhook_delivery"),
    ("api/webhooks/", "webhook_endpoint"),
    ("volunteers/capabilities/", "capability"),
    ("volunteers/needs/", "need"),
    ("invitations/", "invitation"),
    ("members/", "membership"),
    ("people/segments/", "segment"),
    ("people/imports/", "import_batch"),
    ("people/exports/", "export"),
    ("people/fields/", "custom_field"),
    ("people/", "person"),
    ("messages/", "broadcast"),
    ("events/", "event"),
    ("petitions/", "petition"),
    ("statements/", "statement"),
    ("campaigns/", "campaign"),
]


def kwargs_for(route: str, objects: dict[str, Any]) -> dict[str, Any]:
    """Fill a route's parameters with real objects of organization B."""
    kwargs = {"slug": objects["organization"].slug}
    if "<int:pk>" in route:
        name = next((name for part, name in PK_OBJECTS if part in route), None)
        if name is None:
            raise AssertionError(f"no object of organization B to fill {route}")
        kwargs["pk"] = objects[name].pk
    if "<int:other_pk>" in route:
        kwargs["other_pk"] = objects["other_person"].pk
    if "<int:rsvp>" in route:
        kwargs["rsvp"] = objects["rsvp"].pk
    if "<int:co_host>" in route:
        kwargs["co_host"] = objects["co_host"].pk
    if "<int:event_pk>" in route:
        kwargs["event_pk"] = objects["event"].pk
    if "<int:campaign_pk>" in route:
        kwargs["campaign_pk"] = objects["campaign"].pk
    if "<int:shift>" in route:
        kwargs["shift"] = objects["shift"].pk
    if "<int:assignment>" in route:
        kwargs["assignment"] = objects["assignment"].pk
    if "<int:item>" in route:
        kwargs["item"] = objects["campaign_item"].pk
    if "<int:partner>" in route:
        kwargs["partner"] = objects["partner"].pk
    if "<slug:language>" in route:
        kwargs["language"] = "en"
    unknown = set(re.findall(r"<\w+:(\w+)>", route)) - kwargs.keys()
    assert not unknown, f"teach kwargs_for to fill {unknown} in {route}"
    return kwargs


def objects_of(outsider: Any) -> dict[str, Any]:
    """One of everything in organization B, for the URLs to point at."""
    from saha.messaging.broadcasts import BroadcastData, create_broadcast, save_version
    from saha.supporters.exporting import request_export
    from saha.supporters.models import CustomField, ImportBatch, Segment
    from saha.supporters.services import PersonData, upsert_person

    organization = outsider.organization
    invitation, _token = invite_member(
        actor_membership=outsider.membership, email="new@example.org", role="viewer"
    )

    broadcast = create_broadcast(
        actor=outsider.user,
        organization=organization,
        data=BroadcastData(name="B's", channel="email", segment=None, fallback_language="en"),
    )
    save_version(actor=outsider.user, broadcast=broadcast, language="en", subject="B", body="B")

    def person(email: str) -> Any:
        return upsert_person(
            organization=organization,
            actor=outsider.user,
            data=PersonData(email=email, given_name="B"),
            source="manual",
        ).person

    found = {
        "organization": organization,
        "membership": outsider.membership,
        "invitation": invitation,
        "person": person("b1@example.org"),
        "other_person": person("b2@example.org"),
        "segment": Segment.objects.create(organization=organization, name="B's", definition={}),
        "import_batch": ImportBatch.objects.create(
            organization=organization, file_name="b.csv", lawful_basis="consent"
        ),
        "export": request_export(actor=outsider.user, organization=organization, segment=None),
        "custom_field": CustomField.objects.create(
            organization=organization, key="branch", labels={"en": "Branch"}, kind="text"
        ),
        "broadcast": broadcast,
        **event_of(organization),
        **petition_of(organization),
        **statement_of(organization),
    }
    return {
        **found,
        **campaign_of(organization, found["event"]),
        **need_of(organization, found["event"]),
        **api_of(organization),
    }


def api_of(organization: Any) -> dict[str, Any]:
    """An API token of B, and a webhook endpoint of B with one delivery in its log."""
    import uuid

    from saha.api.models import WebhookDelivery, WebhookEndpoint
    from saha.api.tokens import create_token

    token = create_token(actor=None, organization=organization, name="B's token").token
    # Made directly: the service would check the address, and B's is never called here.
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url="https://hooks.example.org/b",
        secret="whsec_b",
        event_types=["person.created"],
    )
    delivery = WebhookDelivery.objects.create(
        organization=organization,
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        event_type="person.created",
        state="gave_up",
    )
    return {"api_token": token, "webhook_endpoint": endpoint, "webhook_delivery": delivery}


def event_of(organization: Any) -> dict[str, Any]:
    """A published event of B with one RSVP, co-hosted by a third organization."""
    import datetime as dt

    from django.utils import timezone

    from saha.events import organizer, services
    from saha.events.models import Event
    from saha.supporters.services import PersonData
    from saha.testing.factories import OrganizationFactory

    start = timezone.now() + dt.timedelta(days=2)
    event = Event.objects.create(
        organization=organization,
        slug="b-event",
        titles={"en": "B's event"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        time_zone="Asia/Beirut",
        status="published",
    )
    co_host = OrganizationFactory(slug="org-c")
    organizer.add_co_host(actor=None, event=event, co_host=co_host)
    data = PersonData(email="b-rsvp@example.org", given_name="B")
    rsvp = services.rsvp(event=event, data=data, notify=False).rsvp
    return {"event": event, "rsvp": rsvp, "co_host": co_host}


def petition_of(organization: Any) -> dict[str, Any]:
    """An open petition of B, signed by one of B's people (matched by email: no new person)."""
    from saha.petitions import services
    from saha.supporters.services import PersonData

    petition = services.create_petition(
        actor=None, organization=organization, slug="b-petition", titles={"en": "B's petition"}
    )
    services.set_status(actor=None, petition=petition, status="open")
    data = PersonData(email="b1@example.org", given_name="B")
    signature = services.sign(petition=petition, data=data).signature
    return {"petition": petition, "signature": signature}


def statement_of(organization: Any) -> dict[str, Any]:
    """A draft statement of B in two languages, which B asked a third organization to co-sign."""
    from saha.statements import services
    from saha.statements.services import VersionText
    from saha.testing.factories import OrganizationFactory

    statement = services.create_statement(
        actor=None,
        organization=organization,
        slug="b-statement",
        versions={
            "en": VersionText(title="B's statement", body="B"),
            "ar": VersionText(title="بيان", body="ب"),
        },
    )
    co_signer = OrganizationFactory(slug="org-d")
    services.invite_co_signer(actor=None, statement=statement, co_signer=co_signer)
    return {"statement": statement}


def campaign_of(organization: Any, event: Any) -> dict[str, Any]:
    """A published campaign of B holding B's event, with an accepted partner."""
    from saha.campaigns import services
    from saha.testing.factories import OrganizationFactory

    campaign = services.create_campaign(
        actor=None, organization=organization, slug="b-campaign", titles={"en": "B's campaign"}
    )
    item = services.add_item(actor=None, campaign=campaign, target=event)
    services.publish(actor=None, campaign=campaign)
    partner = OrganizationFactory(slug="org-e")
    services.invite_partner(actor=None, campaign=campaign, partner=partner)
    services.accept_partnership(actor=None, campaign=campaign, partner=partner)
    return {"campaign": campaign, "campaign_item": item, "partner": partner}


def need_of(organization: Any, event: Any) -> dict[str, Any]:
    """A need of B's event with a shift, and one of B's people assigned to it."""
    from saha.supporters.services import PersonData
    from saha.volunteers import services
    from saha.volunteers.models import Capability

    capabilities = services.ensure_capabilities(organization)
    stewarding = Capability.objects.get(organization=organization, key="stewarding")
    need = services.create_need(
        actor=None,
        organization=organization,
        capability=stewarding,
        wanted=5,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        event=event,
    )
    shift = services.add_shift(
        actor=None, need=need, starts_at=event.starts_at, ends_at=event.ends_at, capacity=5
    )
    assignment = services.sign_up_for_shift(
        shift=shift, data=PersonData(email="b-steward@example.org", given_name="B")
    )
    return {"capability": capabilities[0], "need": need, "shift": shift, "assignment": assignment}


def test_member_of_a_gets_404_on_every_url_of_b(owner, outsider) -> None:
    # given organization B with a member, an invitation, people, a segment, an import, an export
    objects = objects_of(outsider)
    invitation = objects["invitation"]
    patterns = organization_patterns()
    assert len(patterns) >= 30  # organization pages and every people page
    client = owner.mfa_client()  # the owner of organization A, even with MFA passed
    for route, _pattern in patterns:
        url = "/" + route
        for name, value in kwargs_for(route, objects).items():
            url = url.replace(f"<slug:{name}>", str(value)).replace(f"<int:{name}>", str(value))
        # when A's owner tries B's page, by GET and by POST
        for method in (client.get, client.post):
            response = method(url)
            # then it does not exist for them
            assert response.status_code == 404, f"{method.__name__.upper()} {url}"
    # and nothing of B changed
    assert Invitation.objects.get(pk=invitation.pk).is_pending
    assert outsider.membership.__class__.objects.filter(pk=outsider.membership.pk).exists()
    assert (
        objects["person"].__class__.objects.filter(organization=outsider.organization).count() == 4
    )  # two people, an attendee and a steward
    assignment = objects["assignment"]
    assignment.refresh_from_db()
    assert assignment.status == "accepted" and assignment.attended is None
    event, rsvp = objects["event"], objects["rsvp"]
    event.refresh_from_db()
    rsvp.refresh_from_db()
    assert (event.status, event.revision, event.confirmed) == ("published", 0, 1)
    assert rsvp.status == "confirmed" and not hasattr(rsvp, "check_in")
    assert event.co_hosts.get() == objects["co_host"]
    objects["export"].refresh_from_db()
    assert objects["export"].status == "approved"
    objects["broadcast"].refresh_from_db()
    assert objects["broadcast"].status == "draft"
    assert objects["broadcast"].versions.get().body == "B"
    statement = objects["statement"]
    statement.refresh_from_db()
    assert statement.status == "draft" and statement.versions.count() == 2
    assert statement.co_signer_links.get().accepted_at is None
    objects["api_token"].refresh_from_db()
    assert objects["api_token"].revoked_at is None
    objects["webhook_endpoint"].refresh_from_db()
    assert objects["webhook_endpoint"].is_active
    objects["webhook_delivery"].refresh_from_db()
    assert (objects["webhook_delivery"].state, objects["webhook_delivery"].attempts) == (
        "gave_up",
        0,
    )
