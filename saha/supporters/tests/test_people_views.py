"""The organizer's people pages: access, list, search, filters, paging, bulk tags, add, edit.

One person's page and its actions are in test_person_views.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from saha.supporters.consent import record_consent
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentState,
    ConsentStatus,
    CustomField,
    Person,
    Segment,
    Source,
    Tag,
    Tagging,
)
from saha.supporters.tests.people_factories import audited, grant, make_person, own_queries, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Everything a page does, sign-in and session bookkeeping included: a bound
# that does not grow with the number of people shown.
LIST_QUERIES = 22
DETAIL_QUERIES = 22


# --- Who may see what ---------------------------------------------------------


class TestAccess:
    @pytest.mark.parametrize(
        ("page", "allowed"),
        [
            ("people_list", {"owner", "admin", "organizer"}),
            ("person_detail", {"owner", "admin", "organizer"}),
            ("person_new", {"owner", "admin", "organizer"}),
            ("person_edit", {"owner", "admin", "organizer"}),
            ("person_merge", {"owner", "admin", "organizer"}),
            ("person_erase", {"owner", "admin"}),
        ],
    )
    def test_each_page_answers_by_role(self, request, person, page: str, allowed: set[str]) -> None:
        kwargs = {} if page in ("people_list", "person_new") else {"pk": person.pk}
        for name in ("owner", "admin", "organizer", "checkin_staff", "viewer"):
            persona = request.getfixturevalue(name)
            response = persona.client().get(url(page, persona.organization, **kwargs))
            assert response.status_code == (200 if name in allowed else 403), (name, page)

    def test_a_member_of_another_organization_gets_404(self, outsider, person) -> None:
        client = outsider.client()
        organization = person.organization
        for page, kwargs in [
            ("people_list", {}),
            ("person_detail", {"pk": person.pk}),
            ("person_tag", {"pk": person.pk}),
            ("person_erase", {"pk": person.pk}),
            ("person_data_json", {"pk": person.pk}),
        ]:
            for method in (client.get, client.post):
                response = method(url(page, organization, **kwargs), {"tags": "x", "confirm": "on"})
                assert response.status_code == 404, page
        assert Person.objects.filter(pk=person.pk).exists()
        assert not Tag.objects.filter(name="x").exists()

    def test_a_person_of_another_organization_is_not_found_through_ours(
        self, owner, outsider
    ) -> None:
        theirs = make_person(outsider.organization, email="theirs@example.org")
        client = owner.client()
        assert client.get(url("person_detail", owner.organization, pk=theirs.pk)).status_code == 404
        response = client.post(
            url("person_erase", owner.organization, pk=theirs.pk), {"confirm": "on"}
        )
        assert response.status_code == 404
        assert Person.objects.filter(pk=theirs.pk).exists()

    def test_anonymous_is_sent_to_sign_in(self, client, person) -> None:
        response = client.get(url("people_list", person.organization))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- The list -------------------------------------------------------------------


class TestList:
    def test_shows_the_columns_an_organizer_needs(self, organizer, person) -> None:
        response = organizer.client().get(url("people_list", organizer.organization))
        page = response.content.decode()
        assert response.status_code == 200
        for text in ("Hala Haddad", "hala@example.org", "+9613123456", "Beirut", "volunteers"):
            assert text in page
        assert "consent-granted" in page  # email agreed
        assert "1 person in all" in page

    def test_the_total_is_counted_only_up_to_a_cap(self, organizer, monkeypatch) -> None:
        from saha.supporters.views import people as views

        monkeypatch.setattr(views, "TOTAL_CAP", 2)
        for _n in range(3):
            make_person(organizer.organization)
        response = organizer.client().get(url("people_list", organizer.organization))
        assert response.context["total"] == 3  # the cap plus one: "more than"
        assert "More than 2 people in all" in response.content.decode()

    def test_a_constant_number_of_queries_however_many_people(
        self, organizer, django_assert_max_num_queries
    ) -> None:
        organization = organizer.organization
        client = organizer.client()
        client.get(url("people_list", organization))  # the session's first request does more

        def add(count: int) -> None:
            for _ in range(count):
                n = Person.objects.count()
                make_person(
                    organization,
                    email=f"n{n}@example.org",
                    phone=f"+9613{n:06d}",
                    tags=["a", "b"],
                    consents=[grant(), grant(Channel.SMS)],
                )

        add(2)
        with django_assert_max_num_queries(LIST_QUERIES) as few:
            client.get(url("people_list", organization))
        add(28)
        with django_assert_max_num_queries(LIST_QUERIES) as many:
            response = client.get(url("people_list", organization))
        assert response.content.decode().count('name="person"') == 30
        assert len(own_queries(many)) == len(own_queries(few))
        with django_assert_max_num_queries(LIST_QUERIES):
            client.get(url("people_list", organization), {"q": "n1", "tag": Tag.objects.first().pk})

    def test_paging_by_keyset_has_no_gap_or_duplicate_even_while_people_join(
        self, organizer
    ) -> None:
        organization = organizer.organization
        people = [
            Person.objects.create(organization=organization, source=Source.FORM, given_name=f"P{n}")
            for n in range(120)
        ]
        client = organizer.client()
        seen: list[int] = []
        after = None
        pages = 0
        while True:
            response = client.get(
                url("people_list", organization), {"after": after} if after else {}
            )
            assert response.status_code == 200
            seen += [p.pk for p in response.context["people"]]
            pages += 1
            if pages == 1:
                # people join while someone is paging: later pages do not shift
                for _n in range(7):
                    Person.objects.create(organization=organization, source=Source.FORM)
            after = response.context["older"]
            if after is None:
                break
        assert pages == 3
        assert seen == sorted((p.pk for p in people), reverse=True)

    def test_newer_walks_back_to_the_first_page(self, organizer) -> None:
        organization = organizer.organization
        ids = [
            Person.objects.create(organization=organization, source=Source.FORM).pk
            for _ in range(110)
        ]
        client = organizer.client()
        first = client.get(url("people_list", organization)).context
        second = client.get(url("people_list", organization), {"after": first["older"]}).context
        third = client.get(url("people_list", organization), {"after": second["older"]}).context
        assert [p.pk for p in third["people"]] == sorted(ids, reverse=True)[100:]
        back = client.get(url("people_list", organization), {"before": third["newer"]}).context
        assert [p.pk for p in back["people"]] == [p.pk for p in second["people"]]
        again = client.get(url("people_list", organization), {"before": back["newer"]}).context
        assert [p.pk for p in again["people"]] == [p.pk for p in first["people"]]
        assert again["newer"] is None

    def test_no_offset_and_no_count_on_a_later_or_filtered_page(
        self, organizer, person, django_assert_max_num_queries
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = organizer.client()
        with CaptureQueriesContext(connection) as queries:
            client.get(url("people_list", organizer.organization), {"after": person.pk + 1})
            client.get(url("people_list", organizer.organization), {"region": "Beirut"})
        sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
        assert "OFFSET" not in sql
        assert "COUNT(" not in sql

    def test_a_bad_page_link_or_filter_is_a_400_with_the_page(self, organizer, person) -> None:
        client = organizer.client()
        for query in ({"after": "abc"}, {"tag": "999999"}, {"consent_email": "maybe"}):
            response = client.get(url("people_list", organizer.organization), query)
            assert response.status_code == 400, query
            assert "Hala Haddad" in response.content.decode()


class TestSearch:
    @pytest.mark.parametrize(
        "term",
        ["أحمد", "احمد", "أَحْمَد", "احمد الخوري", "AHMAD", "ahm"],
    )
    def test_by_name_with_or_without_arabic_marks(self, organizer, term: str) -> None:
        organization = organizer.organization
        arabic = make_person(organization, given_name="أَحْمَد", family_name="الخوري")
        latin = make_person(organization, given_name="Ahmad", family_name="Khoury")
        make_person(organization, given_name="Hala")
        response = organizer.client().get(url("people_list", organization), {"q": term})
        found = {p.pk for p in response.context["people"]}
        expected = {latin.pk} if term.isascii() else {arabic.pk}
        assert found == expected

    @pytest.mark.parametrize(
        "term", ["hala@example.org", "HALA@", "+961 3 123 456", "03 123 456", "3123456", "٠٣١٢٣٤٥٦"]
    )
    def test_by_email_or_phone(self, organizer, person, term: str) -> None:
        make_person(organizer.organization, email="other@example.org", phone="+961 71 000 000")
        response = organizer.client().get(url("people_list", organizer.organization), {"q": term})
        assert [p.pk for p in response.context["people"]] == [person.pk], term

    def test_never_finds_another_organizations_people(self, organizer, outsider) -> None:
        make_person(outsider.organization, email="hala@example.org", given_name="Hala")
        response = organizer.client().get(url("people_list", organizer.organization), {"q": "hala"})
        assert response.context["people"] == []
        response = organizer.client().get(
            url("people_list", organizer.organization), {"q": "hala@example.org"}
        )
        assert response.context["people"] == []


class TestFilters:
    def test_by_tag_consent_language_region_and_segment(self, organizer) -> None:
        organization = organizer.organization
        a = make_person(
            organization, tags=["donor"], language="ar", region="Saida", consents=[grant()]
        )
        b = make_person(organization, language="fr", region="Beirut", consents=[grant(Channel.SMS)])
        c = make_person(organization, region="Saida")
        record_consent(person=c, grant=grant(status=ConsentStatus.WITHDRAWN))
        donor = Tag.objects.get(name="donor")
        segment = Segment.objects.create(
            organization=organization, name="Saida", definition={"region": ["Saida"]}
        )
        cases = [
            ({"tag": donor.pk}, {a}),
            ({"consent_email": "granted"}, {a}),
            ({"consent_email": "not_granted"}, {b, c}),
            ({"consent_sms": "granted"}, {b}),
            ({"language": "fr"}, {b}),
            ({"region": "Saida"}, {a, c}),
            ({"segment": segment.pk}, {a, c}),
            ({"segment": segment.pk, "consent_email": "not_granted"}, {c}),
        ]
        client = organizer.client()
        for query, expected in cases:
            response = client.get(url("people_list", organization), query)
            assert response.status_code == 200
            assert set(response.context["people"]) == expected, query
            assert response.context["total"] is None  # no count over a filtered list

    def test_a_segment_of_another_organization_is_not_a_choice(self, organizer, outsider) -> None:
        theirs = Segment.objects.create(organization=outsider.organization, name="B", definition={})
        response = organizer.client().get(
            url("people_list", organizer.organization), {"segment": theirs.pk}
        )
        assert response.status_code == 400
        assert "segment" in response.context["form"].errors


class TestBulkTag:
    def test_tags_the_selected_people_and_audits_each(self, organizer, outsider) -> None:
        organization = organizer.organization
        chosen = [make_person(organization) for _ in range(3)]
        left_out = make_person(organization)
        theirs = make_person(outsider.organization)
        response = organizer.client().post(
            url("tag_selected", organization),
            {
                "person": [p.pk for p in chosen] + [theirs.pk],
                "tags": "rally, بيروت",
                "query": "region=Saida&after=99",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == url("people_list", organization) + "?region=Saida&after=99"
        for p in chosen:
            assert set(p.taggings.values_list("tag__name", flat=True)) == {"rally", "بيروت"}
        assert not left_out.taggings.exists()
        assert not theirs.taggings.exists()
        assert not Tag.objects.filter(organization=outsider.organization).exists()
        assert len(audited("supporters.person.tagged")) == 6

    def test_nothing_selected_or_no_tag_is_a_400_that_keeps_what_was_typed(
        self, organizer, person
    ) -> None:
        client = organizer.client()
        response = client.post(url("tag_selected", organizer.organization), {"tags": "rally"})
        assert response.status_code == 400
        assert 'value="rally"' in response.content.decode()
        response = client.post(
            url("tag_selected", organizer.organization), {"person": [person.pk], "tags": " , "}
        )
        assert response.status_code == 400
        assert "checked" in response.content.decode()
        response = client.post(
            url("tag_selected", organizer.organization), {"person": ["x"], "tags": "a"}
        )
        assert response.status_code == 400
        assert not Tagging.objects.exclude(tag__name="volunteers").exists()

    def test_check_in_staff_may_not(self, checkin_staff, person) -> None:
        response = checkin_staff.client().post(
            url("tag_selected", checkin_staff.organization), {"person": [person.pk], "tags": "x"}
        )
        assert response.status_code == 403


# --- Adding and editing ---------------------------------------------------------------


class TestAdd:
    def test_adds_a_person_with_the_consent_the_organizer_recorded(self, organizer) -> None:
        organization = organizer.organization
        response = organizer.client().post(
            url("person_new", organization),
            {
                "given_name": "Rania",
                "family_name": "Saad",
                "email": "Rania@Example.org",
                "phone": "03 555 111",
                "language": "ar",
                "region": "Tripoli",
                "tags": "volunteers",
                "consent_sms": "on",
                "consent_wording": "Agreed by phone on 3 May",
            },
        )
        person = Person.objects.get(organization=organization, given_name="Rania")
        assert response.status_code == 302
        assert response["Location"] == url("person_detail", organization, pk=person.pk)
        assert person.source == Source.MANUAL
        assert person.emails.get().address == "rania@example.org"
        assert person.phones.get().number == "+9613555111"
        record = ConsentRecord.objects.get(person=person)
        assert (record.channel, record.status, record.source) == ("sms", "granted", "manual")
        assert record.wording == "Agreed by phone on 3 May"
        assert record.actor == organizer.user
        assert not ConsentState.objects.filter(person=person, channel=Channel.EMAIL).exists()
        [entry] = audited("supporters.person.created", person)
        assert entry.actor == organizer.user

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"given_name": "No contact"}, "__all__"),
            ({"email": "not-an-address"}, "email"),
            ({"phone": "12"}, "phone"),
            ({"email": "new@example.org", "consent_email": "on"}, "consent_wording"),
            (
                {"email": "new@example.org", "consent_sms": "on", "consent_wording": "ok"},
                "consent_sms",
            ),
            ({"email": "new@example.org", "country": "Lebanon"}, "country"),
        ],
    )
    def test_bad_input_is_a_400_that_keeps_what_was_typed(
        self, organizer, data: dict[str, str], field: str
    ) -> None:
        response = organizer.client().post(
            url("person_new", organizer.organization), {"family_name": "Kept", **data}
        )
        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert 'value="Kept"' in response.content.decode()
        assert not Person.objects.exists()

    def test_someone_already_in_the_list_is_not_added_twice(self, organizer, person) -> None:
        response = organizer.client().post(
            url("person_new", organizer.organization),
            {"given_name": "Other", "email": "HALA@example.org"},
        )
        assert response.status_code == 400
        assert (
            url("person_detail", organizer.organization, pk=person.pk) in response.content.decode()
        )
        assert Person.objects.count() == 1
        assert Person.objects.get().given_name == "Hala"


class TestEdit:
    def test_saves_the_changes_and_audits_them(self, organizer, person) -> None:
        organization = organizer.organization
        CustomField.objects.create(
            organization=organization, key="branch", labels={"en": "Union branch"}, kind="text"
        )
        CustomField.objects.create(
            organization=organization, key="since", labels={"en": "Member since"}, kind="date"
        )
        response = organizer.client().post(
            url("person_edit", organization, pk=person.pk),
            {
                "given_name": "Hala",
                "family_name": "Haddad-Nasr",
                "language": "fr",
                "country": "lb",
                "region": "Beirut",
                "cf_branch": "Port",
                "cf_since": "2020-05-01",
            },
        )
        assert response.status_code == 302
        person.refresh_from_db()
        assert person.family_name == "Haddad-Nasr"
        assert person.country == "LB"
        assert person.custom_fields == {"branch": "Port", "since": "2020-05-01"}
        [entry] = audited("supporters.person.updated", person)
        assert set(entry.data["fields"]) >= {"family_name", "language", "country", "custom_fields"}
        page = organizer.client().get(url("person_detail", organization, pk=person.pk))
        assert "Union branch" in page.content.decode()

    def test_a_language_the_site_does_not_speak_is_kept(self, organizer) -> None:
        person = make_person(organizer.organization, given_name="Ana", language="es")
        organizer.client().post(
            url("person_edit", organizer.organization, pk=person.pk),
            {"given_name": "Ana", "language": "es"},
        )
        person.refresh_from_db()
        assert person.language == "es"

    def test_bad_input_changes_nothing(self, organizer, person) -> None:
        response = organizer.client().post(
            url("person_edit", organizer.organization, pk=person.pk),
            {"given_name": "X" * 200, "country": "LB"},
        )
        assert response.status_code == 400
        person.refresh_from_db()
        assert person.given_name == "Hala"
        assert not audited("supporters.person.updated")


# --- One person's page and its forms ----------------------------------------------------
