"""Privacy: the settings page (double opt-in, export approval, retention) and a person's
rights (a copy of everything about them, erasure), all audited."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentStatus,
    Person,
    PersonEmail,
    PrivacySettings,
)
from saha.supporters.tests.people_factories import audited, grant, make_person, url
from saha.testing.factories import pass_mfa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

VALID = {
    "email_double_opt_in": "on",
    "export_requires_approval": "on",
    "forget_inactive_after_months": "24",
    "drop_event_phones_after_days": "30",
}


@pytest.fixture
def person(org_a: Any) -> Person:
    return make_person(
        org_a,
        email="hala@example.org",
        phone="+961 3 123 456",
        given_name="Hala",
        tags=["volunteers"],
        consents=[grant()],
    )


def updates() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="supporters.privacy.updated").order_by("id"))


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("admin", 200), ("organizer", 403), ("checkin_staff", 403)],
)
def test_only_those_who_manage_the_organization(request, persona: str, status: int) -> None:
    member = request.getfixturevalue(persona)
    client = member.client()
    assert client.get(url("privacy", member.organization)).status_code == status
    assert client.post(url("privacy", member.organization), VALID).status_code in (status, 302)
    assert PrivacySettings.objects.exists() == (status == 200)


def test_a_member_of_another_organization_gets_404(outsider, org_a) -> None:
    client = outsider.client()
    assert client.get(url("privacy", org_a)).status_code == 404
    assert client.post(url("privacy", org_a), VALID).status_code == 404
    assert not PrivacySettings.objects.exists()


def test_the_page_shows_the_defaults_before_anything_is_saved(admin) -> None:
    response = admin.client().get(url("privacy", admin.organization))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["email_double_opt_in"].value() is False
    assert form["forget_inactive_after_months"].value() is None
    assert not PrivacySettings.objects.exists()  # reading creates nothing


def test_the_first_save_creates_the_row_and_audits_what_changed(admin) -> None:
    response = admin.client().post(url("privacy", admin.organization), VALID)
    assert response.status_code == 302
    assert response["Location"] == url("privacy", admin.organization)
    row = PrivacySettings.objects.get(organization=admin.organization)
    assert row.email_double_opt_in and row.export_requires_approval
    assert (row.forget_inactive_after_months, row.drop_event_phones_after_days) == (24, 30)
    [entry] = updates()
    assert entry.actor == admin.user
    assert entry.organization == admin.organization
    assert entry.data == {
        "changed": {
            "email_double_opt_in": True,
            "export_requires_approval": True,
            "forget_inactive_after_months": 24,
            "drop_event_phones_after_days": 30,
        }
    }


def test_a_later_save_audits_only_what_changed_and_nothing_when_nothing_did(admin) -> None:
    client = admin.client()
    client.post(url("privacy", admin.organization), VALID)
    client.post(url("privacy", admin.organization), VALID)
    assert len(updates()) == 1
    client.post(url("privacy", admin.organization), {**VALID, "forget_inactive_after_months": ""})
    assert updates()[-1].data == {"changed": {"forget_inactive_after_months": None}}
    assert PrivacySettings.objects.get().forget_inactive_after_months is None
    assert PrivacySettings.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("forget_inactive_after_months", "0"),
        ("forget_inactive_after_months", "-3"),
        ("forget_inactive_after_months", "99999999999"),
        ("drop_event_phones_after_days", "soon"),
        ("drop_event_phones_after_days", "0"),
    ],
)
def test_bad_input_is_a_400_and_saves_nothing(admin, field: str, value: str) -> None:
    response = admin.client().post(url("privacy", admin.organization), {**VALID, field: value})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'value="{value}"' in response.content.decode()
    assert not PrivacySettings.objects.exists()
    assert not updates()


def test_double_opt_in_makes_new_email_sign_ups_wait_for_confirmation(admin) -> None:
    admin.client().post(url("privacy", admin.organization), {"email_double_opt_in": "on"})
    person = make_person(admin.organization)
    record = record_consent(
        person=person,
        grant=ConsentGrant(channel=Channel.EMAIL, wording="Yes", source=ConsentSource.FORM),
    )
    assert record is not None
    assert record.status == ConsentStatus.PENDING


def test_the_people_page_links_here_for_those_who_may_change_it(owner: Any, organizer: Any) -> None:
    link = url("privacy", owner.organization)
    assert link in owner.client().get(url("people_list", owner.organization)).content.decode()
    assert (
        link not in organizer.client().get(url("people_list", owner.organization)).content.decode()
    )


# --- A person's rights: a copy of their data, and erasure -----------------------------


class TestErase:
    def test_the_confirmation_page_says_what_goes_and_what_stays(self, admin, person) -> None:
        response = admin.client().get(url("person_erase", admin.organization, pk=person.pk))
        assert response.status_code == 200
        assert response.context["counts"] == {
            "emails": 1,
            "phones": 1,
            "tags": 1,
            "consent_records": 1,
        }

    def test_erases_with_the_reason_in_the_audit_log(self, admin, person) -> None:
        person_id = person.pk
        response = admin.client().post(
            url("person_erase", admin.organization, pk=person.pk),
            {"reason": "asked by email", "confirm": "on"},
        )
        assert response.status_code == 302
        assert not Person.objects.filter(pk=person_id).exists()
        assert not PersonEmail.objects.filter(address="hala@example.org").exists()
        assert not ConsentRecord.objects.filter(person_id=person_id).exists()
        [entry] = audited("supporters.person.erased")
        assert entry.actor == admin.user
        assert entry.data["reason"] == "asked by email"
        assert "Hala" not in entry.target_label

    def test_nothing_happens_without_the_confirmation(self, admin, organizer, person) -> None:
        response = admin.client().post(
            url("person_erase", admin.organization, pk=person.pk), {"reason": "x"}
        )
        assert response.status_code == 400
        assert "confirm" in response.context["form"].errors
        response = organizer.client().post(
            url("person_erase", admin.organization, pk=person.pk), {"confirm": "on"}
        )
        assert response.status_code == 403
        assert Person.objects.filter(pk=person.pk).exists()


class TestDownload:
    def test_needs_a_session_that_passed_a_second_factor(self, owner, person) -> None:
        response = owner.client().get(url("person_data_json", owner.organization, pk=person.pk))
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_index")  # no second factor enrolled yet
        assert not audited("supporters.person.exported")

    def test_json_holds_everything_and_is_audited(self, owner, person) -> None:
        client = owner.client()
        pass_mfa(client, owner.user)
        response = client.get(url("person_data_json", owner.organization, pk=person.pk))
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="person-{person.pk}.json"'
        assert "no-store" in response["Cache-Control"]
        data = json.loads(response.content)
        assert data["profile"]["given_name"] == "Hala"
        assert data["emails"][0]["address"] == "hala@example.org"
        assert data["phones"][0]["number"] == "+9613123456"
        assert data["tags"] == ["volunteers"]
        assert data["consent"][0]["wording"] == "Keep me informed."
        assert any(m["kind"] == "consent" for m in data["timeline"])
        [entry] = audited("supporters.person.exported", person)
        assert (entry.actor, entry.data) == (owner.user, {"format": "json"})

    def test_csv_is_safe_to_open_in_a_spreadsheet(self, owner) -> None:
        person = make_person(
            owner.organization, given_name="=HYPERLINK(1)", family_name="حداد", phone="+96171000111"
        )
        client = owner.client()
        pass_mfa(client, owner.user)
        response = client.get(url("person_data_csv", owner.organization, pk=person.pk))
        assert response.status_code == 200
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0] == ["section", "item", "field", "value"]
        values = {(r[0], r[2]): r[3] for r in rows[1:]}
        assert values[("profile", "given_name")] == "'=HYPERLINK(1)"
        assert values[("profile", "family_name")] == "حداد"
        assert values[("phones", "number")] == "+96171000111"
        assert audited("supporters.person.exported", person)[0].data == {"format": "csv"}

    def test_an_organizer_may_not(self, organizer, person) -> None:
        client = organizer.client()
        pass_mfa(client, organizer.user)
        response = client.get(url("person_data_json", organizer.organization, pk=person.pk))
        assert response.status_code == 403
