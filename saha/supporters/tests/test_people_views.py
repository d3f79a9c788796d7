"""The organizer's people pages: list, search, filters, paging, one person and its actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from saha.core.models import AuditEntry
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
    Segment,
    Source,
    Tag,
    Tagging,
)
from saha.supporters.services import PersonData, upsert_person
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# Everything a page does, sign-in and session bookkeeping included: a bound
# that does not grow with the number of people shown.
LIST_QUERIES = 22
DETAIL_QUERIES = 22


def url(name: str, organization: Any, **kwargs: Any) -> str:
    return reverse(f"supporters:{name}", kwargs={"slug": organization.slug, **kwargs})


def make_person(organization: Any, **fields: Any) -> Person:
    """A person through the real sign-up path, as a web form would add them."""
    fields.setdefault("email", f"p{Person.objects.count() + 1}-{id(fields)}@example.org")
    consents = fields.pop("consents", ())
    return upsert_person(
        organization=organization,
        actor="test",
        data=PersonData(consents=consents, **fields),
        source=Source.FORM,
    ).person


def grant(channel: str = Channel.EMAIL, status: str = ConsentStatus.GRANTED) -> ConsentGrant:
    return ConsentGrant(
        channel=channel, status=status, wording="Keep me informed.", source=ConsentSource.FORM
    )


def audited(action: str, person: Person | None = None) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(action=action)
    if person is not None:
        entries = entries.filter(target_id=str(person.pk))
    return list(entries)


def own_queries(context: Any) -> list[str]:
    """The queries of the supporters' tables: the page's own work, without the session's."""
    return [q["sql"] for q in context.captured_queries if "supporters_" in q["sql"]]


def pass_mfa(client: Any, user: Any) -> None:
    """Make the session one that passed a second factor, as allauth records it."""
    session = client.session
    session["account_authentication_methods"] = [{"method": "mfa", "at": 0, "type": "totp"}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


@pytest.fixture(autouse=True)
def english(settings: Any) -> None:
    """Pages in English, so that assertions on words hold once the catalogues translate them."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def viewer(org_a: Any) -> Any:
    from saha.conftest import Persona

    return Persona(MembershipFactory(organization=org_a, role=Role.VIEWER))


@pytest.fixture
def person(org_a: Any) -> Person:
    return make_person(
        org_a,
        email="hala@example.org",
        phone="+961 3 123 456",
        given_name="Hala",
        family_name="Haddad",
        region="Beirut",
        tags=["volunteers"],
        consents=[grant()],
    )


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
