"""Services the API needed: create_tag, and tag_people auditing the tags it creates."""

from __future__ import annotations

from typing import Any

import pytest

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.organizations.models import Organization
from saha.supporters.models import Tag
from saha.supporters.services import create_tag, tag_people
from saha.supporters.tests.people_factories import PersonFactory


def test_create_tag_creates_once_and_audits_once(org_a: Organization) -> None:
    tag, created = create_tag(actor="test", organization=org_a, name="  Youth  ")
    again, created_again = create_tag(actor="test", organization=org_a, name="Youth")
    assert (created, created_again) == (True, False)
    assert tag == again
    assert tag.name == "Youth"
    assert AuditEntry.objects.get(action="supporters.tag.created").organization == org_a


def test_the_same_name_in_two_organizations_is_two_tags(
    org_a: Organization, org_b: Organization
) -> None:
    create_tag(actor="test", organization=org_a, name="youth")
    create_tag(actor="test", organization=org_b, name="youth")
    assert Tag.objects.count() == 2


@pytest.mark.parametrize("name", ["", "   ", "\u200f"])
def test_an_empty_name_is_refused(org_a: Organization, name: str) -> None:
    with pytest.raises(DomainError) as error:
        create_tag(actor="test", organization=org_a, name=name)
    assert error.value.code == "tag_name_missing"


def test_tag_people_audits_a_new_tag_once_and_each_new_tagging(org_a: Organization) -> None:
    # given a tag that exists and two people, one already tagged with it
    rana = PersonFactory(organization=org_a, email="rana@example.org", tags=["member"])
    sami = PersonFactory(organization=org_a, email="sami@example.org")

    # when both are tagged "member" and a new "volunteer"
    added = tag_people(actor="test", people=[rana, sami], names=["member", " volunteer "])

    # then three taggings are new, and only the new tag is recorded as created
    assert added == 3
    created = AuditEntry.objects.filter(action="supporters.tag.created")
    assert [(entry.data["tag"], entry.organization) for entry in created] == [("volunteer", org_a)]
    assert AuditEntry.objects.filter(action="supporters.person.tagged").count() == 3
    assert Tag.objects.filter(organization=org_a).count() == 2


def test_a_change_of_consent_or_contact_moves_the_modified_date(org_a: Any) -> None:
    import datetime as dt

    from saha.supporters.consent import ConsentGrant, record_consent
    from saha.supporters.models import Channel, ConsentSource, ConsentStatus, Person
    from saha.supporters.services import PersonData, add_contact, upsert_person

    person = upsert_person(
        organization=org_a, actor="test", data=PersonData(email="m@example.org"), source="api"
    ).person
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Person.objects.filter(pk=person.pk).update(modified_at=old)
    record_consent(
        person=person,
        grant=ConsentGrant(
            channel=Channel.EMAIL,
            status=ConsentStatus.GRANTED,
            source=ConsentSource.API,
            wording="Yes, email me.",
        ),
        actor="test",
    )
    person.refresh_from_db()
    assert person.modified_at > old
    Person.objects.filter(pk=person.pk).update(modified_at=old)
    add_contact(actor="test", person=person, phone="+96171123456")
    person.refresh_from_db()
    assert person.modified_at > old
