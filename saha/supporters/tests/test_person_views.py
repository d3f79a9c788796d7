"""One person's page and its actions: details, tags, contacts, consent by hand, merge."""

from __future__ import annotations

import pytest
from django.urls import reverse

from saha.organizations.roles import Role
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    CustomField,
    FieldKind,
    Person,
    PersonEmail,
    Tag,
)
from saha.supporters.tests.people_factories import audited, make_person, own_queries, url
from saha.testing.factories import MembershipFactory

# One more per app that adds to the timeline (messaging: the messages sent).
DETAIL_QUERIES = 25  # volunteers add two: the offer and the assignments

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


class TestDetail:
    def test_shows_contacts_consent_tags_and_the_timeline(self, organizer, person) -> None:
        record_consent(
            person=person,
            grant=ConsentGrant(
                channel=Channel.SMS,
                status=ConsentStatus.WITHDRAWN,
                wording="Stop the texts, said on the phone",
                source=ConsentSource.MANUAL,
            ),
        )
        response = organizer.client().get(
            url("person_detail", organizer.organization, pk=person.pk)
        )
        page = response.content.decode()
        assert response.status_code == 200
        for text in ("hala@example.org", "+9613123456", "volunteers", "Stop the texts"):
            assert text in page
        kinds = [m.kind for m in response.context["moments"]]
        assert kinds.count("consent") == 2
        assert len(kinds) > 2  # and how they came to the list

    def test_a_constant_number_of_queries(
        self, organizer, person, django_assert_max_num_queries
    ) -> None:
        client = organizer.client()
        page = url("person_detail", organizer.organization, pk=person.pk)
        client.get(page)  # the session's first request does more
        with django_assert_max_num_queries(DETAIL_QUERIES) as few:
            client.get(page)
        for n in range(10):
            record_consent(
                person=person,
                grant=ConsentGrant(
                    channel=Channel.SMS,
                    status=ConsentStatus.GRANTED if n % 2 else ConsentStatus.WITHDRAWN,
                    wording=f"change {n}",
                    source=ConsentSource.MANUAL,
                ),
            )
        make_person(organizer.organization, email=person.emails.get().address, tags=["a", "b"])
        with django_assert_max_num_queries(DETAIL_QUERIES) as many:
            client.get(page)
        assert len(own_queries(many)) == len(own_queries(few))

    def test_a_viewer_of_people_sees_no_forms(self, request, person, org_a) -> None:
        messenger = MembershipFactory(organization=org_a, role=Role.MESSENGER)
        from saha.conftest import Persona

        response = Persona(messenger).client().get(url("person_detail", org_a, pk=person.pk))
        page = response.content.decode()
        assert response.status_code == 200
        assert url("person_tag", org_a, pk=person.pk) not in page
        assert url("person_erase", org_a, pk=person.pk) not in page


class TestTags:
    def test_add_and_remove_with_audit(self, organizer, person) -> None:
        client = organizer.client()
        organization = organizer.organization
        response = client.post(
            url("person_tag", organization, pk=person.pk), {"tags": "donors، rally"}
        )
        assert response.status_code == 302
        names = set(person.taggings.values_list("tag__name", flat=True))
        assert names == {"volunteers", "donors", "rally"}
        assert len(audited("supporters.person.tagged", person)) == 2
        donors = Tag.objects.get(organization=organization, name="donors")
        response = client.post(url("person_untag", organization, pk=person.pk), {"tag": donors.pk})
        assert response.status_code == 302
        assert not person.taggings.filter(tag=donors).exists()
        assert len(audited("supporters.person.untagged", person)) == 1

    def test_an_empty_tag_is_a_400_and_a_foreign_tag_a_404(
        self, organizer, outsider, person
    ) -> None:
        client = organizer.client()
        organization = organizer.organization
        response = client.post(url("person_tag", organization, pk=person.pk), {"tags": "  "})
        assert response.status_code == 400
        assert "tags" in response.context["tags_form"].errors
        theirs = Tag.objects.create(organization=outsider.organization, name="volunteers")
        for value in (theirs.pk, "abc", ""):
            response = client.post(url("person_untag", organization, pk=person.pk), {"tag": value})
            assert response.status_code == 404
        assert person.taggings.count() == 1


class TestContacts:
    def test_add_and_remove(self, organizer, person) -> None:
        client = organizer.client()
        organization = organizer.organization
        response = client.post(
            url("person_add_contact", organization, pk=person.pk),
            {"email": "hala.h@example.org", "phone": "+961 71 222 333"},
        )
        assert response.status_code == 302
        assert person.emails.count() == 2
        assert person.phones.count() == 2
        assert audited("supporters.person.email_added", person)
        assert audited("supporters.person.phone_added", person)
        email = person.emails.get(address="hala.h@example.org")
        response = client.post(
            url("person_remove_contact", organization, pk=person.pk), {"email": email.pk}
        )
        assert response.status_code == 302
        assert not PersonEmail.objects.filter(pk=email.pk).exists()
        assert audited("supporters.person.email_removed", person)

    def test_an_address_of_someone_else_offers_a_merge(self, organizer, person) -> None:
        other = make_person(organizer.organization, email="other@example.org")
        response = organizer.client().post(
            url("person_add_contact", organizer.organization, pk=person.pk),
            {"email": "other@example.org"},
        )
        assert response.status_code == 409
        merge = url("person_merge_confirm", organizer.organization, pk=person.pk, other_pk=other.pk)
        assert merge in response.content.decode()
        assert other.emails.get().address == "other@example.org"

    def test_bad_input(self, organizer, outsider, person) -> None:
        client = organizer.client()
        organization = organizer.organization
        for data in ({}, {"email": "nope"}, {"phone": "123"}):
            response = client.post(url("person_add_contact", organization, pk=person.pk), data)
            assert response.status_code == 400, data
        # someone else's address cannot be removed through this person
        other = make_person(organization, email="other@example.org")
        theirs = make_person(outsider.organization, email="x@example.org")
        for email in (other.emails.get(), theirs.emails.get()):
            response = client.post(
                url("person_remove_contact", organization, pk=person.pk), {"email": email.pk}
            )
            assert response.status_code == 404
            assert PersonEmail.objects.filter(pk=email.pk).exists()
        response = client.post(url("person_remove_contact", organization, pk=person.pk), {})
        assert response.status_code == 400


class TestConsentByHand:
    def test_a_withdrawal_heard_by_phone_goes_to_the_ledger(self, organizer, person) -> None:
        response = organizer.client().post(
            url("person_consent", organizer.organization, pk=person.pk),
            {"channel": "email", "status": "withdrawn", "wording": "Asked by phone on 3 May"},
        )
        assert response.status_code == 302
        state = ConsentState.objects.get(person=person, channel=Channel.EMAIL)
        assert state.status == ConsentStatus.WITHDRAWN
        assert state.record.source == ConsentSource.MANUAL
        assert state.record.actor == organizer.user
        assert state.record.source_ref == f"user:{organizer.user.pk}"
        assert ConsentRecord.objects.filter(person=person).count() == 2

    def test_without_words_nothing_is_recorded(self, organizer, person) -> None:
        for data in (
            {"channel": "email", "status": "withdrawn", "wording": ""},
            {"channel": "fax", "status": "granted", "wording": "ok"},
            {"channel": "email", "status": "pending", "wording": "ok"},
        ):
            response = organizer.client().post(
                url("person_consent", organizer.organization, pk=person.pk), data
            )
            assert response.status_code == 400
        assert ConsentRecord.objects.filter(person=person).count() == 1


# --- Merge, erase, download ----------------------------------------------------------------


class TestMerge:
    def test_search_then_compare_then_merge(self, organizer, person) -> None:
        organization = organizer.organization
        twin = make_person(
            organization,
            email="hala.haddad@work.example",
            given_name="Hala",
            locality="Hamra",
            tags=["donors"],
        )
        client = organizer.client()
        response = client.get(url("person_merge", organization, pk=person.pk), {"q": "hala"})
        assert [p.pk for p in response.context["candidates"]] == [twin.pk]  # never themselves
        compare = url("person_merge_confirm", organization, pk=person.pk, other_pk=twin.pk)
        response = client.get(compare)
        page = response.content.decode()
        assert "hala@example.org" in page
        assert "hala.haddad@work.example" in page
        response = client.post(compare, {"keep": person.pk})
        assert response["Location"] == url("person_detail", organization, pk=person.pk)
        assert not Person.objects.filter(pk=twin.pk).exists()
        person.refresh_from_db()
        assert person.locality == "Hamra"
        assert person.emails.count() == 2
        assert set(person.taggings.values_list("tag__name", flat=True)) == {"volunteers", "donors"}
        [entry] = audited("supporters.person.merged", person)
        assert entry.data == {"merged": twin.pk}

    def test_keeping_the_other_record(self, organizer, person) -> None:
        twin = make_person(organizer.organization, email="twin@example.org")
        compare = url(
            "person_merge_confirm", organizer.organization, pk=person.pk, other_pk=twin.pk
        )
        response = organizer.client().post(compare, {"keep": twin.pk})
        assert response["Location"] == url("person_detail", organizer.organization, pk=twin.pk)
        assert not Person.objects.filter(pk=person.pk).exists()

    def test_refuses_what_cannot_be_merged(self, organizer, outsider, person) -> None:
        client = organizer.client()
        organization = organizer.organization
        theirs = make_person(outsider.organization)
        response = client.post(
            url("person_merge_confirm", organization, pk=person.pk, other_pk=theirs.pk),
            {"keep": person.pk},
        )
        assert response.status_code == 404
        response = client.post(
            url("person_merge_confirm", organization, pk=person.pk, other_pk=person.pk),
            {"keep": person.pk},
        )
        assert response.status_code == 400
        twin = make_person(organization)
        response = client.post(
            url("person_merge_confirm", organization, pk=person.pk, other_pk=twin.pk),
            {"keep": theirs.pk},
        )
        assert response.status_code == 400
        assert Person.objects.filter(pk__in=[person.pk, twin.pk, theirs.pk]).count() == 3
        response = client.get(url("person_merge", organization, pk=person.pk), {"q": ""})
        assert response.status_code == 400


def test_custom_field_kinds_round_trip(organizer) -> None:
    organization = organizer.organization
    CustomField.objects.create(
        organization=organization, key="dues", labels={"en": "Dues"}, kind=FieldKind.NUMBER
    )
    CustomField.objects.create(
        organization=organization,
        key="shift",
        labels={"en": "Shift"},
        kind=FieldKind.CHOICE,
        choices=["morning", "evening"],
    )
    response = organizer.client().post(
        url("person_new", organization),
        {"email": "c@example.org", "cf_dues": "12", "cf_shift": "evening"},
    )
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.custom_fields == {"dues": 12, "shift": "evening"}
    response = organizer.client().post(
        url("person_edit", organization, pk=person.pk), {"cf_dues": "1.5", "cf_shift": "noon"}
    )
    assert response.status_code == 400
    assert "cf_shift" in response.context["form"].errors


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_every_page_renders_in_each_language(organizer, person, language: str) -> None:
    client = organizer.client()
    organization = organizer.organization
    for page, kwargs in [
        ("people_list", {}),
        ("person_new", {}),
        ("person_detail", {"pk": person.pk}),
        ("person_edit", {"pk": person.pk}),
        ("person_merge", {"pk": person.pk}),
    ]:
        response = client.get(url(page, organization, **kwargs), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, page
        assert f'lang="{language}"' in response.content.decode()


@pytest.mark.parametrize("value", ["99999999999999999999", "²"])
def test_odd_ids_in_post_bodies_are_refused_not_crashes(organizer, value) -> None:
    from saha.supporters.tests.people_factories import PersonFactory

    person = PersonFactory(organization=organizer.organization)
    client = organizer.client()
    slug = organizer.organization.slug
    removed = client.post(
        reverse("supporters:person_remove_contact", args=[slug, person.pk]), {"email": value}
    )
    assert removed.status_code == 404
    tagged = client.post(
        reverse("supporters:tag_selected", args=[slug]), {"person": value, "tags": "x"}
    )
    assert tagged.status_code in (302, 400)


def test_the_merge_page_opens_in_a_chosen_language(organizer, person) -> None:
    response = organizer.client().get(
        url("person_merge", organizer.organization, pk=person.pk), {"lang": "ar"}
    )
    assert response.status_code == 200
