"""The organization's own fields: added by admins, used on people, deleted with their values."""

from __future__ import annotations

import pytest
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.supporters.models import CustomField, Person
from saha.supporters.services import PersonData, upsert_person

pytestmark = pytest.mark.django_db


def fields_url(persona) -> str:
    return reverse("supporters:field_list", args=[persona.organization.slug])


def test_an_admin_adds_a_choice_field_in_three_languages(admin) -> None:
    response = admin.client().post(
        fields_url(admin),
        {
            "label_ar": "الفرع",
            "label_en": "Union branch",
            "label_fr": "Section",
            "kind": "choice",
            "choices": "North\nSouth\n\nNorth",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert field.key == "union_branch"
    assert field.labels == {"ar": "الفرع", "en": "Union branch", "fr": "Section"}
    assert field.choices == ["North", "South"]
    assert AuditEntry.objects.filter(action="supporters.field.created").exists()


def test_keys_stay_unique_and_arabic_only_names_get_a_key(admin) -> None:
    client = admin.client()
    for _ in range(2):
        client.post(fields_url(admin), {"label_en": "Branch", "kind": "text"})
    client.post(fields_url(admin), {"label_ar": "الفرع", "kind": "text"})
    assert sorted(CustomField.objects.values_list("key", flat=True)) == [
        "branch",
        "branch_2",
        "field",
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "text"},
        {"label_en": "Branch", "kind": "choice", "choices": "  "},
        {"label_en": "Branch", "kind": "colour"},
    ],
)
def test_bad_fields_are_refused_with_the_form(admin, data) -> None:
    response = admin.client().post(fields_url(admin), data)
    assert response.status_code == 400
    assert not CustomField.objects.exists()


def test_deleting_a_field_deletes_its_values_everywhere(admin) -> None:
    field = CustomField.objects.create(
        organization=admin.organization, key="since", labels={"en": "Since"}, kind="number"
    )
    for index, extra in enumerate([{"since": 2020, "other": "x"}, {"other": "y"}]):
        upsert_person(
            organization=admin.organization,
            actor=admin.user,
            data=PersonData(email=f"p{index}@example.org", custom_fields=extra),
            source="manual",
        )
    delete = reverse("supporters:field_delete", args=[admin.organization.slug, field.pk])
    # without the confirmation box ticked nothing happens
    assert admin.client().post(delete).status_code == 302
    assert CustomField.objects.exists()
    response = admin.client().post(delete, {"confirm": "on"})
    assert response.status_code == 302
    assert not CustomField.objects.exists()
    assert sorted(Person.objects.values_list("custom_fields", flat=True), key=str) == [
        {"other": "x"},
        {"other": "y"},
    ]
    assert AuditEntry.objects.get(action="supporters.field.deleted").data["cleared"] == 1


def test_organizers_cannot_change_fields(organizer) -> None:
    assert organizer.client().get(fields_url(organizer)).status_code == 403


def test_a_new_field_never_reuses_a_key_some_people_still_hold(admin) -> None:
    from saha.supporters import fields

    upsert_person(
        organization=admin.organization,
        actor=admin.user,
        data=PersonData(email="p@example.org", custom_fields={"branch": "North"}),
        source="manual",
    )
    field = fields.create_field(
        actor=admin.user,
        organization=admin.organization,
        labels={"en": "Branch"},
        kind="number",
        choices=[],
    )
    assert field.key == "branch_2"
