"""The acceptance test of partner consent: "A co-host's organizer cannot see a sign-up
that did not consent to that co-host, through any page, export or API call."

A host runs a published campaign holding an event and a petition, with one
accepted partner. Two supporters answer each form through the public pages (the
petition through its real intake: accept, then the worker's take-in); on each
form one ticks the partner's box and one does not. Then the partner's owner,
signed in with a second factor (every right the partner can give), opens every
page that could show people, goes through the export, and reads what comes back:
the one who ticked is there, the one who did not is nowhere: not their address,
phone number or name. Once with the partner as a co-host of the event too (its
box then also lets it see the RSVP among the event's attendees), once without.

The volunteers' forms (an offer from the hub or the event's page, a shift's sign-up) are
checked the same way, with their own signers (`TestTheVolunteerForms`).

The open API is checked the same way (`TestTheApi`): the partner's token, holding
every scope, walks /api/v2/ from the entry point by its links, reads every route
with each of the host's ids, and filters on each refusing signer's address.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape

from saha.api import scopes
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_hal_walk import api_base, walk
from saha.api.tests.test_isolation import COLLECTIONS
from saha.api.tests.test_schema import api_routes
from saha.api.tokens import create_token
from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup
from saha.events.models import CoHost, Event, Rsvp
from saha.events.tests.test_campaign_partners import make_campaign
from saha.events.tests.test_public_views import event_url
from saha.events.tests.test_rsvp import make_event
from saha.organizations.models import Organization
from saha.petitions import intake
from saha.petitions.models import Petition, Signature
from saha.petitions.tests.test_public_views import petition_url
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.models import ExportRequest, Person, Segment
from saha.volunteers import services as volunteers
from saha.volunteers.models import Assignment, Offer
from saha.volunteers.tests.helpers import capability, make_need

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Signer:
    given_name: str
    family_name: str
    email: str
    phone: str  # as typed: "+961 71 555 111"

    @property
    def traces(self) -> list[str]:
        """Every form in which a page or a file could show this person."""
        digits = re.sub(r"\D", "", self.phone)
        national = digits.removeprefix("961")
        return [
            self.email,
            self.email.split("@")[0],
            self.given_name,
            self.family_name,
            f"+{digits}",
            digits,
            national,
            self.phone.removeprefix("+961 "),
        ]

    def form(self) -> dict[str, str]:
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "email": self.email,
            "phone": self.phone,
            "language": "en",
        }


RSVP_YES = Signer("Yasmina", "Consentia", "yasmina.consentia@example.org", "+961 71 555 111")
RSVP_NO = Signer("Zubaida", "Nosharewitz", "zubaida.nosharewitz@example.org", "+961 71 999 333")
PETITION_YES = Signer("Omarino", "Agreeson", "omarino.agreeson@example.org", "+961 71 555 222")
PETITION_NO = Signer("Karimo", "Privatsky", "karimo.privatsky@example.org", "+961 71 999 444")
CONSENTING = (RSVP_YES, PETITION_YES)
REFUSING = (RSVP_NO, PETITION_NO)


@dataclass
class World:
    host: Organization
    partner: Organization
    campaign: Campaign
    event: Event
    petition: Petition
    co_host: bool
    member: Client  # the partner's owner, with a second factor


def answer(event: Event, signer: Signer, tick: Organization | None) -> None:
    data = signer.form()
    if tick is not None:
        data[f"share_{tick.pk}"] = "on"
    response = Client().post(event_url(event), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 303


def sign(petition: Petition, signer: Signer, tick: Organization | None) -> None:
    data = {**signer.form(), "locality": "Tyre"}
    if tick is not None:
        data[f"partner_{tick.pk}"] = "on"
    response = Client().post(petition_url(petition), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 303


@pytest.fixture(params=[False, True], ids=["partner-only", "partner-and-co-host"])
def world(request: Any, org_a: Organization, org_b: Organization, outsider: Any) -> World:
    event, petition = make_event(org_a), make_petition(org_a)
    campaign = make_campaign(org_a, event=event, partners=(org_b,))
    CampaignItem.objects.create(
        organization=org_a, campaign=campaign, petition=petition, position=1
    )
    if request.param:
        CoHost.objects.create(
            event=event, organization=org_a, co_host=org_b, accepted_at=timezone.now()
        )
    answer(event, RSVP_YES, tick=org_b)
    answer(event, RSVP_NO, tick=None)
    sign(petition, PETITION_YES, tick=org_b)
    sign(petition, PETITION_NO, tick=None)
    assert intake.take_in() == 2
    # the host has all four: the forms worked
    assert Rsvp.objects.filter(event=event).count() == 2
    assert Signature.objects.filter(petition=petition).count() == 2
    assert outsider.organization == org_b and outsider.membership.role == "owner"
    return World(org_a, org_b, campaign, event, petition, request.param, outsider.mfa_client())


def body(response: HttpResponse | StreamingHttpResponse) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[union-attr]
    return response.content.decode()


def shows_nobody_who_refused(
    text: str, where: str, refusing: tuple[Signer, ...] = REFUSING
) -> None:
    lowered = text.casefold()
    for signer in refusing:
        for trace in signer.traces:
            assert trace.casefold() not in lowered, f"{trace!r} of a refusing signer in {where}"


def shows(text: str, signer: Signer) -> bool:
    return signer.email in text and signer.family_name in text


def get(
    world: World, url: str, *, echoed: str = "", refusing: tuple[Signer, ...] = REFUSING
) -> tuple[int, str]:
    """The page, checked; a search term the page repeats back (in its search box, in its
    links) is no trace: what the page found is still checked by the others."""
    response = world.member.get(url, HTTP_ACCEPT_LANGUAGE="en")
    text = body(response)
    checked = text
    if echoed:
        for form in (echoed, quote_plus(echoed), quote(echoed), escape(echoed)):
            checked = checked.replace(form, "")
    shows_nobody_who_refused(checked, url, refusing)
    return response.status_code, text


def manage(name: str, world: World, *args: Any) -> str:
    return reverse(name, args=[world.partner.slug, *args])


class TestThePartnersOwnPages:
    def test_the_supporters_list_and_its_search(self, world: World) -> None:
        status, page = get(world, manage("supporters:people_list", world))
        assert status == 200 and all(shows(page, signer) for signer in CONSENTING)
        url = manage("supporters:people_list", world)
        for signer in CONSENTING:
            _status, page = get(world, f"{url}?{urlencode({'q': signer.email})}")
            assert shows(page, signer)
        for signer in REFUSING:
            for trace in signer.traces:
                get(world, f"{url}?{urlencode({'q': trace})}", echoed=trace)

    def test_the_person_pages_exist_only_for_those_who_ticked(self, world: World) -> None:
        people = Person.objects.filter(organization=world.partner)
        emails = set(people.values_list("emails__address", flat=True))
        assert emails == {signer.email for signer in CONSENTING}
        for person in people:
            for name in ("person_detail", "person_data_json", "person_data_csv", "person_edit"):
                status, _page = get(world, manage(f"supporters:{name}", world, person.pk))
                assert status == 200, name
        # the host's people, by their ids, are nowhere to be found
        for person in Person.objects.filter(organization=world.host):
            for name in ("person_detail", "person_data_json", "person_data_csv", "person_edit"):
                status, _page = get(world, manage(f"supporters:{name}", world, person.pk))
                assert status == 404, name

    def test_the_partners_signups_record_only_the_ticked_boxes(self, world: World) -> None:
        signups = CampaignSignup.objects.filter(organization=world.partner)
        assert sorted(signups.values_list("person__emails__address", "source")) == sorted(
            [
                (RSVP_YES.email, f"event:{world.event.pk}"),
                (PETITION_YES.email, f"petition:{world.petition.pk}"),
            ]
        )

    def test_segments_hold_nobody_who_refused_whatever_their_definition(self, world: World) -> None:
        everyone = Segment.objects.create(organization=world.partner, name="All", definition={})
        # a stored definition naming the host's event and petition matches nobody
        borrowed = Segment.objects.create(
            organization=world.partner,
            name="Borrowed",
            definition={
                "rsvped_to": [world.event.pk],
                "signed": [world.petition.pk],
                "signed_confirmed": [world.petition.pk],
            },
        )
        _status, page = get(world, manage("supporters:segment_detail", world, everyone.pk))
        assert all(signer.email in page for signer in CONSENTING)
        _status, page = get(world, manage("supporters:segment_detail", world, borrowed.pk))
        assert not any(signer.email in page for signer in CONSENTING)
        get(world, manage("supporters:segment_list", world))
        for criterion in ("rsvped_to", "attended", "signed", "signed_confirmed"):
            for pk in (world.event.pk, world.petition.pk):
                get(world, manage("supporters:segment_count", world) + f"?{criterion}={pk}")

    def test_the_export_holds_only_those_who_ticked(self, world: World) -> None:
        url = manage("supporters:export_list", world)
        response = world.member.post(url, {"segment": ""})
        assert response.status_code == 302
        export = ExportRequest.objects.get(organization=world.partner)
        assert export.requested_count == 2
        download = world.member.post(manage("supporters:export_download", world, export.pk))
        assert download.status_code == 200
        text = body(download)
        shows_nobody_who_refused(text, "the export")
        rows = list(csv.reader(io.StringIO(text)))
        assert sorted(row[3] for row in rows[1:]) == sorted(s.email for s in CONSENTING)
        # (a leading "+" is neutralized against spreadsheet formulas)
        assert sorted(row[5] for row in rows[1:]) == ["'+96171555111", "'+96171555222"]
        # the export list itself, and an export of the host's attendees, show nobody else
        get(world, url)
        for which in ("coming", "came"):
            status, _page = get(world, manage("events:manage_export", world, world.event.pk))
            assert status == 404, which


class TestTheHostsEventAndPetition:
    def test_the_attendee_list_shows_only_those_who_ticked_for_a_co_host(
        self, world: World
    ) -> None:
        url = manage("events:manage_attendees", world, world.event.pk)
        status, page = get(world, url)
        if not world.co_host:
            assert status == 404  # not a co-host: not the partner's event at all
            return
        assert status == 200 and RSVP_YES.family_name in page
        for trace in RSVP_NO.traces:
            get(world, f"{url}?{urlencode({'q': trace})}", echoed=trace)
        for status_filter in ("confirmed", "cancelled", "waiting", "checked_in"):
            get(world, f"{url}?status={status_filter}")
        status, page = get(world, manage("events:manage_event", world, world.event.pk))
        assert status == 200
        # the host's pages that change the list or export it are not the co-host's
        for name in ("events:manage_export", "events:manage_attendee_add", "events:gate"):
            assert get(world, manage(name, world, world.event.pk))[0] == 404, name

    def test_the_petitions_organizer_pages_are_not_found_for_a_non_host(self, world: World) -> None:
        for name in (
            "petitions:manage_petition",
            "petitions:manage_signatures",
            "petitions:manage_csv",
            "petitions:manage_document",
            "petitions:manage_edit",
        ):
            status, _page = get(world, manage(name, world, world.petition.pk))
            assert status == 404, name
        # nor through the host's own address, of which the partner's owner is no member
        host_url = reverse("petitions:manage_signatures", args=[world.host.slug, world.petition.pk])
        status, _page = get(world, host_url)
        assert status in (403, 404)

    def test_the_campaigns_manage_pages_show_only_the_partners_signups(self, world: World) -> None:
        try:
            detail = manage("campaigns:manage_campaign", world, world.campaign.pk)
            signups = manage("campaigns:manage_signups", world, world.campaign.pk)
        except NoReverseMatch:
            pytest.skip("campaigns:manage_campaign and manage_signups (slug, pk) not built yet")
        status, _page = get(world, detail)
        assert status == 200
        status, page = get(world, signups)
        assert status == 200
        assert all(signer.family_name in page for signer in CONSENTING)
        # and through the host's address, of which the partner's owner is no member
        for name in ("campaigns:manage_campaign", "campaigns:manage_signups"):
            url = reverse(name, args=[world.host.slug, world.campaign.pk])
            assert get(world, url)[0] in (403, 404), name


class TestEveryPage:
    def test_no_page_of_the_partner_shows_anyone_who_did_not_tick(self, world: World) -> None:
        """Every organizer page the URLconf has (those built after this test too), with
        each id of the host's and the partner's rows: whatever answers, never a trace."""
        ids = _row_ids(world)
        visited, broken = 0, set()
        for name, kwargs in _organizer_pages():
            for values in _fillings(kwargs, world, ids):
                try:
                    url = reverse(name, kwargs=values)
                except NoReverseMatch:
                    continue
                try:
                    get(world, url)
                except AssertionError:
                    raise
                except Exception as error:  # a page that breaks shows nothing, but is a bug
                    broken.add(f"{name}: {type(error).__name__}: {error}")
                visited += 1
        assert visited > 200
        assert sorted(broken) == []


def partner_api(world: World) -> ApiClient:
    new = create_token(
        actor="test", organization=world.partner, name="partner", scopes=list(scopes.ALL_SCOPES)
    )
    return ApiClient(new.secret, world.partner)


def read(api: ApiClient, href: str, refusing: tuple[Signer, ...] = REFUSING) -> Any:
    response = api.get(href)
    shows_nobody_who_refused(response.content.decode(), href, refusing)
    return response


class TestTheApi:
    @pytest.fixture(autouse=True)
    def _unlimited(self, settings: Any) -> None:
        settings.SAHA_API_RATE_PER_MINUTE = 100_000

    def test_a_walk_from_the_entry_point_shows_only_those_who_ticked(self, world: World) -> None:
        result = walk(partner_api(world))
        assert result.problems == []
        for href, (_status, data) in result.answers.items():
            shows_nobody_who_refused(str(data), href)
        emails = {
            email["address"]
            for item in result.items
            for email in item.get("email_addresses", [])
            if isinstance(email, dict)
        }
        assert {signer.email for signer in CONSENTING} <= emails

    def test_no_route_answers_with_the_hosts_rows(self, world: World) -> None:
        api = partner_api(world)
        host_rows = {
            name: [str(row.uuid) for row in model.objects.filter(organization=world.host)]
            for name, model in COLLECTIONS.items()
            if name != "taggings"
        }
        visited = 0
        for route in api_routes():
            if "get" not in route.methods or not route.arguments:
                continue
            kinds = route.segments_before()
            for argument in route.arguments:
                for value in host_rows.get(kinds[argument], []):
                    # the host's id here, the partner's own (or a made-up one) elsewhere
                    values = {name: value for name in route.arguments}
                    response = read(api, route.path(**values))
                    assert response.status_code == 404, route.path(**values)
                    visited += 1
        assert visited > 10

    def test_a_filter_on_a_refusing_signers_address_finds_nobody(self, world: World) -> None:
        api = partner_api(world)
        for signer in REFUSING:
            for name in ("email_address", "phone_number"):
                value = signer.email if name == "email_address" else signer.phone
                response = api.get(f"{api_base()}/people", filter=f"{name} eq '{value}'")
                # (the links repeat the filter back: what was found is in _embedded)
                found = json.dumps(response.json()["_embedded"], ensure_ascii=False)
                shows_nobody_who_refused(found, f"filter {name}")
                assert response.json()["total_records"] == 0
        for signer in CONSENTING:
            response = api.get(f"{api_base()}/people", filter=f"email_address eq '{signer.email}'")
            assert response.json()["total_records"] == 1


OFFER_YES = Signer("Walida", "Offerwell", "walida.offerwell@example.org", "+961 71 555 333")
OFFER_NO = Signer("Hanina", "Keepquiet", "hanina.keepquiet@example.org", "+961 71 999 555")
SHIFT_YES = Signer("Sabrina", "Shiftgood", "sabrina.shiftgood@example.org", "+961 71 555 444")
SHIFT_NO = Signer("Jamila", "Unsharedova", "jamila.unsharedova@example.org", "+961 71 999 666")
VOLUNTEERS_CONSENTING = (OFFER_YES, SHIFT_YES)
VOLUNTEERS_REFUSING = (OFFER_NO, SHIFT_NO)


@pytest.fixture
def volunteer_world(org_a: Organization, org_b: Organization, outsider: Any) -> World:
    """The same campaign, signed up to through the volunteers' forms only: the offer form
    embedded on the hub and on the event's page, and a shift of a need of the event."""
    event, petition = make_event(org_a), make_petition(org_a)
    campaign = make_campaign(org_a, event=event, partners=(org_b,))
    need = make_need(org_a, event=event, wanted=5)
    shift = volunteers.add_shift(
        actor="t", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=5
    )
    first_aid = capability(org_a, "first-aid").pk
    forms = [
        ("/o/org-a/volunteer/", OFFER_YES, {"campaign": campaign.pk, f"cap_{first_aid}": "on"}),
        ("/o/org-a/volunteer/", OFFER_NO, {"event": event.pk, f"cap_{first_aid}": "on"}),
        (f"/o/org-a/needs/{need.pk}/", SHIFT_YES, {"shift": shift.pk}),
        (f"/o/org-a/needs/{need.pk}/", SHIFT_NO, {"shift": shift.pk}),
    ]
    for url, signer, extra in forms:
        data = {**signer.form(), **extra}
        if signer in VOLUNTEERS_CONSENTING:
            data[f"partner_{org_b.pk}"] = "on"
        response = Client().post(url, data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 303, url
    # the host has all four: the forms worked
    assert Person.objects.filter(organization=org_a).count() == 4
    return World(org_a, org_b, campaign, event, petition, False, outsider.mfa_client())


class TestTheVolunteerForms:
    def test_the_partner_has_only_those_who_ticked_on_any_page(
        self, volunteer_world: World
    ) -> None:
        world, refusing = volunteer_world, VOLUNTEERS_REFUSING
        people = Person.objects.filter(organization=world.partner)
        emails = set(people.values_list("emails__address", flat=True))
        assert emails == {signer.email for signer in VOLUNTEERS_CONSENTING}
        need_pk = world.event.needs.get().pk
        signups = CampaignSignup.objects.filter(organization=world.partner)
        assert sorted(signups.values_list("person__emails__address", "source")) == sorted(
            [
                (OFFER_YES.email, f"offer:campaign:{world.campaign.pk}"),
                (SHIFT_YES.email, f"need:{need_pk}"),
            ]
        )
        url = manage("supporters:people_list", world)
        _status, page = get(world, url, refusing=refusing)
        assert all(shows(page, signer) for signer in VOLUNTEERS_CONSENTING)
        for signer in refusing:
            for trace in signer.traces:
                q = f"{url}?{urlencode({'q': trace})}"
                get(world, q, echoed=trace, refusing=refusing)
        # and the ids of the host's offers, needs, shifts and assignments too
        ids = sorted(
            {
                *_row_ids(world),
                *Offer.objects.values_list("pk", flat=True),
                *Assignment.objects.values_list("pk", flat=True),
                *world.event.needs.values_list("pk", "shifts__pk").get(),
            }
        )
        visited = 0
        for name, kwargs in _organizer_pages():
            for values in _fillings(kwargs, world, ids):
                try:
                    page_url = reverse(name, kwargs=values)
                except NoReverseMatch:
                    continue
                get(world, page_url, refusing=refusing)
                visited += 1
        assert visited > 200


def _row_ids(world: World) -> list[int]:
    """The ids of everything the sign-ups made, on both sides."""
    ids = {world.event.pk, world.petition.pk, world.campaign.pk}
    ids |= set(Person.objects.values_list("pk", flat=True))
    ids |= set(Rsvp.objects.values_list("pk", flat=True))
    ids |= set(Signature.objects.values_list("pk", flat=True))
    ids |= set(CampaignSignup.objects.values_list("pk", flat=True))
    return sorted(ids)


def _organizer_pages() -> list[tuple[str, list[tuple[str, str]]]]:
    """(name, [(argument, converter)]) of every page under manage/<slug>/."""
    found: list[tuple[str, list[tuple[str, str]]]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name and route.startswith("manage/<"):
                arguments = re.findall(r"<(\w+):(\w+)>", route)
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                found.append((name, [(arg, conv) for conv, arg in arguments]))

    walk(get_resolver().url_patterns, "", "")
    return found


def _fillings(
    arguments: list[tuple[str, str]], world: World, ids: list[int]
) -> list[dict[str, Any]]:
    """Each way to fill a page's arguments: the partner's slug, every id for the first
    number and a few for any other, a language for a language."""
    fillings: list[dict[str, Any]] = [{}]
    numbers = 0
    for argument, converter in arguments:
        if argument == "slug":
            choices: list[Any] = [world.partner.slug]
        elif converter == "int":
            choices = ids if numbers == 0 else ids[:2] + ids[-2:]
            numbers += 1
        else:
            choices = ["en", "ar"]
        fillings = [{**filling, argument: choice} for filling in fillings for choice in choices]
    return fillings
