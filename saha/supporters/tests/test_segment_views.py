"""Segment pages: build an audience in a form, count it live, save, change and delete it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from saha.core.models import AuditEntry
from saha.supporters.models import Channel, ConsentStatus, Person, Segment, Tag
from saha.supporters.tests.test_people_views import (
    grant,
    make_person,
    own_queries,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PAGE_QUERIES = 22


@pytest.fixture
def people(org_a: Any) -> dict[str, Person]:
    """Three people of A: an Arabic-speaking donor, a French volunteer, a newcomer."""
    return {
        "donor": make_person(
            org_a, given_name="Hala", tags=["donors"], language="ar", consents=[grant()]
        ),
        "volunteer": make_person(
            org_a,
            given_name="Rami",
            tags=["volunteers", "donors"],
            language="fr",
            region="Saida",
            consents=[grant(Channel.SMS)],
        ),
        "newcomer": make_person(org_a, given_name="Nour", region="Saida"),
    }


def tag(name: str) -> Tag:
    return Tag.objects.get(name=name)


class TestAccess:
    @pytest.mark.parametrize(
        ("page", "allowed"),
        [
            ("segment_list", {"owner", "admin", "organizer"}),
            ("segment_new", {"owner", "admin", "organizer"}),
            ("segment_count", {"owner", "admin", "organizer"}),
            ("segment_detail", {"owner", "admin", "organizer"}),
            ("segment_edit", {"owner", "admin", "organizer"}),
        ],
    )
    def test_each_page_answers_by_role(self, request, org_a, page: str, allowed: set[str]) -> None:
        segment = Segment.objects.create(organization=org_a, name="All", definition={})
        kwargs = {"pk": segment.pk} if page in ("segment_detail", "segment_edit") else {}
        for name in ("owner", "admin", "organizer", "checkin_staff"):
            persona = request.getfixturevalue(name)
            response = persona.client().get(url(page, org_a, **kwargs))
            assert response.status_code == (200 if name in allowed else 403), (name, page)

    def test_a_member_of_another_organization_gets_404(self, outsider, org_a) -> None:
        segment = Segment.objects.create(organization=org_a, name="All", definition={})
        client = outsider.client()
        for page, kwargs in [
            ("segment_list", {}),
            ("segment_new", {}),
            ("segment_count", {}),
            ("segment_detail", {"pk": segment.pk}),
            ("segment_edit", {"pk": segment.pk}),
            ("segment_delete", {"pk": segment.pk}),
        ]:
            for method in (client.get, client.post):
                assert method(url(page, org_a, **kwargs), {"name": "x"}).status_code == 404
        assert Segment.objects.get(pk=segment.pk).name == "All"

    def test_a_segment_of_another_organization_is_not_found_through_ours(
        self, owner, outsider
    ) -> None:
        theirs = Segment.objects.create(organization=outsider.organization, name="B", definition={})
        client = owner.client()
        for method, page in [
            (client.get, "segment_detail"),
            (client.get, "segment_edit"),
            (client.post, "segment_edit"),
            (client.post, "segment_delete"),
        ]:
            response = method(url(page, owner.organization, pk=theirs.pk), {"name": "mine"})
            assert response.status_code == 404, page
        assert Segment.objects.get(pk=theirs.pk).name == "B"

    def test_check_in_staff_may_not_delete(self, checkin_staff, org_a) -> None:
        segment = Segment.objects.create(organization=org_a, name="All", definition={})
        response = checkin_staff.client().post(url("segment_delete", org_a, pk=segment.pk))
        assert response.status_code == 403
        assert Segment.objects.filter(pk=segment.pk).exists()


class TestBuild:
    def test_the_form_has_a_field_for_every_registered_criterion(self, organizer, people) -> None:
        from saha.supporters import segments

        response = organizer.client().get(url("segment_new", organizer.organization))
        page = response.content.decode()
        for item in segments.criteria():
            assert f'name="c_{item.key}"' in page, item.key
        assert 'hx-get="' + url("segment_count", organizer.organization) in page
        assert 'name="preview"' in page  # the same count without JavaScript

    def test_save_stores_the_definition_and_audits_it(self, organizer, people) -> None:
        organization = organizer.organization
        response = organizer.client().post(
            url("segment_new", organization),
            {
                "name": "  Arabic   donors ",
                "c_tags_any": [tag("donors").pk],
                "c_tags_none": [tag("volunteers").pk],
                "c_consent_email": "granted",
                "c_language": ["ar"],
                "c_created_from": "2020-01-01",
            },
        )
        segment = Segment.objects.get(organization=organization)
        assert response.status_code == 302
        assert response["Location"] == url("segment_detail", organization, pk=segment.pk)
        assert segment.name == "Arabic donors"
        assert segment.created_by == organizer.user
        assert segment.definition == {
            "tags_any": [tag("donors").pk],
            "tags_none": [tag("volunteers").pk],
            "consent_email": "granted",
            "language": ["ar"],
            "created_from": "2020-01-01",
        }
        [entry] = AuditEntry.objects.filter(action="supporters.segment.created")
        assert (entry.actor, entry.target_id) == (organizer.user, str(segment.pk))
        detail = organizer.client().get(response["Location"])
        assert [p.pk for p in detail.context["result"].preview] == [people["donor"].pk]

    def test_preview_without_javascript_counts_without_saving(self, organizer, people) -> None:
        response = organizer.client().post(
            url("segment_new", organizer.organization),
            {"name": "", "c_region": ["Saida"], "preview": "1"},
        )
        assert response.status_code == 200
        assert response.context["result"].count == 2
        assert not response.context["form"].errors  # no name yet is fine for a preview
        assert not Segment.objects.exists()

    @pytest.mark.parametrize(
        "data",
        [
            {"name": ""},
            {"name": "Dates", "c_created_from": "not a date"},
            {"name": "Languages", "c_language": ["xx"]},
            {"name": "Consent", "c_consent_sms": "maybe"},
        ],
    )
    def test_bad_input_is_a_400_that_keeps_the_choices(self, organizer, people, data) -> None:
        response = organizer.client().post(
            url("segment_new", organizer.organization),
            {**data, "c_tags_all": [tag("donors").pk]},
        )
        assert response.status_code == 400
        assert response.context["form"].errors
        assert f'value="{tag("donors").pk}"' in response.content.decode()
        assert "checked" in response.content.decode()
        assert not Segment.objects.exists()

    def test_a_tag_of_another_organization_is_not_a_choice(self, organizer, outsider) -> None:
        theirs = Tag.objects.create(organization=outsider.organization, name="secret")
        response = organizer.client().post(
            url("segment_new", organizer.organization), {"name": "X", "c_tags_any": [theirs.pk]}
        )
        assert response.status_code == 400
        assert "c_tags_any" in response.context["form"].errors

    def test_names_are_unique_per_organization(self, organizer, outsider) -> None:
        Segment.objects.create(organization=organizer.organization, name="Donors", definition={})
        Segment.objects.create(organization=outsider.organization, name="Rally", definition={})
        client = organizer.client()
        response = client.post(url("segment_new", organizer.organization), {"name": "Donors"})
        assert response.status_code == 400
        assert "name" in response.context["form"].errors
        response = client.post(url("segment_new", organizer.organization), {"name": "Rally"})
        assert response.status_code == 302


class TestLiveCount:
    def test_counts_and_previews_what_the_form_says(self, organizer, people) -> None:
        client = organizer.client()
        cases = [
            ({}, {"donor", "volunteer", "newcomer"}),
            ({"c_tags_all": [tag("donors").pk, tag("volunteers").pk]}, {"volunteer"}),
            ({"c_tags_any": [tag("donors").pk]}, {"donor", "volunteer"}),
            ({"c_tags_none": [tag("donors").pk]}, {"newcomer"}),
            ({"c_consent_email": "not_granted"}, {"volunteer", "newcomer"}),
            ({"c_consent_sms": "granted"}, {"volunteer"}),
            ({"c_region": ["Saida"], "c_language": ["fr"]}, {"volunteer"}),
            ({"c_created_until": "2000-01-01"}, set()),
        ]
        for query, names in cases:
            response = client.get(url("segment_count", organizer.organization), query)
            assert response.status_code == 200
            result = response.context["result"]
            assert result.count == len(names), query
            assert {p.pk for p in result.preview} == {people[n].pk for n in names}, query

    def test_bad_choices_say_so_instead_of_failing(self, organizer, people) -> None:
        response = organizer.client().get(
            url("segment_count", organizer.organization), {"c_created_from": "31/31/2020"}
        )
        assert response.status_code == 200  # htmx swaps only successful answers
        assert response.context["invalid"]
        assert "not valid" in response.content.decode()

    def test_withdrawn_consent_does_not_count_as_agreed(self, organizer, people) -> None:
        from saha.supporters.consent import record_consent

        record_consent(person=people["donor"], grant=grant(Channel.EMAIL, ConsentStatus.WITHDRAWN))
        response = organizer.client().get(
            url("segment_count", organizer.organization), {"c_consent_email": "granted"}
        )
        assert response.context["result"].count == 0

    def test_a_constant_number_of_queries(
        self, organizer, people, django_assert_max_num_queries
    ) -> None:
        client = organizer.client()
        page = url("segment_count", organizer.organization)
        query = {"c_tags_any": [tag("donors").pk], "c_consent_email": "granted"}
        client.get(page, query)
        with django_assert_max_num_queries(PAGE_QUERIES) as few:
            client.get(page, query)
        for _n in range(15):
            make_person(organizer.organization, tags=["donors"], consents=[grant()])
        with django_assert_max_num_queries(PAGE_QUERIES) as many:
            response = client.get(page, query)
        assert response.context["result"].count == 16
        assert len(own_queries(many)) == len(own_queries(few))


class TestDetail:
    def test_describes_the_criteria_in_words_and_counts(self, organizer, people) -> None:
        segment = Segment.objects.create(
            organization=organizer.organization,
            name="Donors of the south",
            definition={"tags_any": [tag("donors").pk], "region": ["Saida"], "language": ["fr"]},
        )
        response = organizer.client().get(
            url("segment_detail", organizer.organization, pk=segment.pk),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        criteria = dict(response.context["criteria"])
        assert criteria["Has any of these tags"] == "donors"
        assert criteria["Preferred language"] == "French"
        assert criteria["Region or governorate"] == "Saida"
        assert response.context["result"].count == 1
        people_link = url("people_list", organizer.organization) + f"?segment={segment.pk}"
        assert people_link in response.content.decode()

    def test_the_export_link_appears_once_the_export_page_exists(self, owner, people) -> None:
        segment = Segment.objects.create(organization=owner.organization, name="All", definition={})
        response = owner.client().get(url("segment_detail", owner.organization, pk=segment.pk))
        assert response.status_code == 200
        try:
            export = reverse(
                "supporters:export_segment", args=[owner.organization.slug, segment.pk]
            )
        except NoReverseMatch:
            assert response.context["export_url"] is None
        else:
            assert export in response.content.decode()

    def test_a_removed_criterion_or_tag_does_not_break_the_page(self, organizer, people) -> None:
        gone = tag("volunteers")
        segment = Segment.objects.create(
            organization=organizer.organization,
            name="Old",
            definition={"signed_petition": 4, "tags_any": [gone.pk]},
        )
        gone.delete()
        response = organizer.client().get(
            url("segment_detail", organizer.organization, pk=segment.pk)
        )
        assert response.status_code == 200
        assert response.context["result"].count == 0

    def test_a_constant_number_of_queries(
        self, organizer, people, django_assert_max_num_queries
    ) -> None:
        segment = Segment.objects.create(
            organization=organizer.organization,
            name="Donors",
            definition={"tags_any": [tag("donors").pk], "tags_none": [tag("volunteers").pk]},
        )
        client = organizer.client()
        page = url("segment_detail", organizer.organization, pk=segment.pk)
        client.get(page)
        with django_assert_max_num_queries(PAGE_QUERIES) as few:
            client.get(page)
        for _ in range(12):
            make_person(organizer.organization, tags=["donors"])
        with django_assert_max_num_queries(PAGE_QUERIES) as many:
            client.get(page)
        assert len(own_queries(many)) == len(own_queries(few))


class TestChange:
    def test_edit_changes_the_definition_and_audits_it(self, organizer, people) -> None:
        segment = Segment.objects.create(
            organization=organizer.organization, name="Saida", definition={"region": ["Saida"]}
        )
        client = organizer.client()
        form = client.get(url("segment_edit", organizer.organization, pk=segment.pk))
        assert re.search(r'value="Saida"[^>]* checked', form.content.decode())
        response = client.post(
            url("segment_edit", organizer.organization, pk=segment.pk),
            {"name": "Saida, SMS", "c_region": ["Saida"], "c_consent_sms": "granted"},
        )
        assert response.status_code == 302
        segment.refresh_from_db()
        assert segment.name == "Saida, SMS"
        assert segment.definition == {"region": ["Saida"], "consent_sms": "granted"}
        [entry] = AuditEntry.objects.filter(action="supporters.segment.updated")
        assert entry.data["definition"] == segment.definition

    def test_delete_removes_the_segment_not_the_people(self, organizer, people) -> None:
        segment = Segment.objects.create(
            organization=organizer.organization, name="Saida", definition={"region": ["Saida"]}
        )
        response = organizer.client().post(
            url("segment_delete", organizer.organization, pk=segment.pk)
        )
        assert response["Location"] == url("segment_list", organizer.organization)
        assert not Segment.objects.exists()
        assert Person.objects.count() == 3
        [entry] = AuditEntry.objects.filter(action="supporters.segment.deleted")
        assert entry.data == {"name": "Saida"}

    def test_list_shows_only_our_segments(self, organizer, outsider, django_assert_max_num_queries):
        for n in range(5):
            Segment.objects.create(
                organization=organizer.organization,
                name=f"Ours {n}",
                definition={},
                created_by=organizer.user,
            )
        Segment.objects.create(organization=outsider.organization, name="Theirs", definition={})
        client = organizer.client()
        client.get(url("segment_list", organizer.organization))
        with django_assert_max_num_queries(PAGE_QUERIES):
            response = client.get(url("segment_list", organizer.organization))
        page = response.content.decode()
        assert page.count("Ours ") == 5
        assert "Theirs" not in page


@pytest.mark.parametrize("value", ["99999999999999999999", "²", "-1", "x"])
def test_odd_tag_ids_are_a_400_not_a_500(organizer, value) -> None:
    response = organizer.client().get(
        url("segment_count", organizer.organization), {"c_tags_any": value}
    )
    assert response.status_code in (200, 400)
