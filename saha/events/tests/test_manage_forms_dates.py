"""Dates at the edge of the calendar: year 1 in Beirut or year 9999 in New York would
carry the instant past what Python can hold. Refused as a form error, never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django import forms
from django.urls import reverse

from saha.events.manage_forms import YEARS, LocalDateTimeField, in_zone
from saha.events.models import Event
from saha.events.tests.test_manage_views import form
from saha.events.tests.test_rsvp import make_event
from saha.organizations.models import Organization
from saha.statements.models import Statement, StatementStatus
from saha.statements.tests.helpers import make_statement

EDGES = [
    ("0001-01-01T00:30", "Asia/Beirut"),
    ("0001-01-01T00:00", "America/New_York"),
    ("9999-12-31T23:59", "America/New_York"),
    ("9999-12-31T23:59", "Asia/Beirut"),
]


class TestTheField:
    @pytest.mark.parametrize(
        "typed", ["0001-01-01T00:30", "1899-12-31T23:59", "2201-01-01T00:00", "9999-12-31T23:59"]
    )
    def test_a_year_out_of_range_is_refused(self, typed: str) -> None:
        with pytest.raises(forms.ValidationError) as refused:
            LocalDateTimeField().clean(typed)
        assert refused.value.code == "out_of_range"
        assert "1900" in str(refused.value.messages) and "2200" in str(refused.value.messages)

    @pytest.mark.parametrize("typed", ["1900-01-01T00:00", "2200-12-31T23:59:59"])
    def test_the_range_is_inclusive(self, typed: str) -> None:
        assert LocalDateTimeField().clean(typed).year in YEARS

    @pytest.mark.parametrize(("typed", "zone"), EDGES)
    def test_in_zone_refuses_what_it_cannot_convert(self, typed: str, zone: str) -> None:
        """Other callers may pass a datetime that did not come through the field."""
        local = dt.datetime.strptime(typed, "%Y-%m-%dT%H:%M")
        with pytest.raises(forms.ValidationError) as refused:
            in_zone(local, zone)
        assert refused.value.code == "out_of_range"


@pytest.mark.django_db
class TestThePages:
    @pytest.mark.parametrize(("typed", "zone"), EDGES)
    def test_an_event_is_a_form_error(self, organizer: Any, typed: str, zone: str) -> None:
        data = form(starts=typed, ends=typed, time_zone=zone)
        response = organizer.client().post(reverse("events:manage_new", args=["org-a"]), data)
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert "starts" in errors and "ends" in errors
        assert not Event.objects.exists()

    @pytest.mark.parametrize(("typed", "zone"), EDGES)
    def test_a_copy_of_an_event_is_a_form_error(
        self, org_a: Any, organizer: Any, typed: str, zone: str
    ) -> None:
        event = make_event(org_a, time_zone=zone)
        address = reverse("events:manage_duplicate", args=["org-a", event.pk])
        response = organizer.client().post(address, {"starts": typed})
        assert response.status_code == 400
        assert Event.objects.count() == 1

    @pytest.mark.parametrize(("typed", "zone"), EDGES)
    def test_scheduling_a_statement_is_a_form_error(
        self, org_a: Any, organizer: Any, typed: str, zone: str
    ) -> None:
        Organization.objects.filter(pk=org_a.pk).update(time_zone=zone)
        statement = make_statement(org_a)
        address = reverse("statements:manage_schedule", args=["org-a", statement.pk])
        response = organizer.client().post(address, {"publish_at": typed})
        assert response.status_code == 400
        assert "publish_at" in response.context["schedule_form"].errors
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.DRAFT
