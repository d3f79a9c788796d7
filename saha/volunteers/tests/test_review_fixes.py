"""What a review of the volunteers pages found: a public form typed by anyone under a
known supporter's address neither gives them an offer that coordinators would match
nor reopens what they declined; huge numbers are form errors, not 500s; the thanks
page of a need exists only for a need whose page is public."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from saha.events.models import EventStatus
from saha.supporters.services import PersonData, upsert_person
from saha.volunteers import matching, services
from saha.volunteers.models import Assignment, AssignmentStatus, Offer, OfferStatus
from saha.volunteers.tests.helpers import make_event, make_need, make_offer, offered
from saha.volunteers.tests.test_manage_views import coordinator, url  # noqa: F401
from saha.volunteers.tests.test_public_views import offer_url, post, van_form

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999"


def test_an_offer_typed_under_a_known_address_waits_for_its_owner(
    client: Client, org_a: Any
) -> None:
    upsert_person(
        organization=org_a, actor="t", data=PersonData(email="rima@example.org"), source="manual"
    )
    need = make_need(org_a, "driver", wanted=1, min_quantity=8)

    response = post(client, offer_url(org_a), van_form(org_a))

    assert response.status_code == 303  # the same page as for anyone
    offer = Offer.objects.get()
    assert offer.status == OfferStatus.WITHDRAWN
    assert matching.candidates(need) == []  # nobody is matched on what a stranger typed
    # Its owner saves it from the link they were sent, and only then is it offered.
    driver = offered(offer, "driver")
    services.update_offer(
        offer=offer, offered={driver.capability_id: (9, "")}, availability=[], locality="Hamra"
    )
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACTIVE


def test_a_public_sign_up_does_not_reopen_what_a_known_supporter_declined(
    client: Client, org_a: Any
) -> None:
    need = make_need(org_a, wanted=3)
    offer = make_offer(org_a, 1)
    services.invite(actor="t", need=need, offers=[offer])
    [row] = Assignment.objects.all()
    services.respond(assignment=row, accept=False)

    services.sign_up_for_need(need=need, data=PersonData(email="v1@example.org"))

    row.refresh_from_db()
    assert row.status == AssignmentStatus.DECLINED
    need.refresh_from_db()
    assert need.filled == 0


def test_huge_numbers_on_the_matching_page_are_form_errors(
    org_a: Any,
    coordinator: Any,  # noqa: F811
) -> None:
    need = make_need(org_a, "driver", wanted=2, min_quantity=8)
    van = make_offer(org_a, 1, {"driver": 9})
    client = coordinator.client()

    invite = client.post(url("match_invite", need.pk), {"offers": [HUGE]})
    assign = client.post(
        url("match_assign", need.pk), {"offered": offered(van, "driver").pk, "quantity": HUGE}
    )

    assert (invite.status_code, assign.status_code) == (400, 400)
    assert not Assignment.objects.exists()


def test_the_thanks_page_of_a_draft_events_need_is_a_404(client: Client, org_a: Any) -> None:
    need = make_need(org_a, event=make_event(org_a, status=EventStatus.DRAFT))
    shown = make_need(org_a, event=make_event(org_a, slug="other"))

    assert client.get(f"/o/org-a/needs/{need.pk}/thanks/").status_code == 404
    assert client.get(f"/o/org-a/needs/{shown.pk}/thanks/").status_code == 200
