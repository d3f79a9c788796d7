"""Segments: each criterion, their combinations, tenant scoping, one query for count and preview."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from saha.supporters import segments
from saha.supporters.models import Channel, ConsentSource, ConsentStatus, PersonPhone, Tag
from saha.supporters.tests.people_factories import PersonFactory, consent

pytestmark = pytest.mark.django_db

BEIRUT = zoneinfo.ZoneInfo("Asia/Beirut")


def names(organization, definition) -> set[str]:
    return set(segments.matching(organization, definition).values_list("given_name", flat=True))


def tag_ids(organization, *tag_names) -> list[int]:
    return [Tag.objects.get(organization=organization, name=n).pk for n in tag_names]


@pytest.fixture
def people(org_a, org_b):
    """Org A's supporters, and in org B people who would match every criterion."""
    everyone = {
        "rana": PersonFactory(
            organization=org_a,
            given_name="rana",
            tags=["volunteers", "donors"],
            language="ar",
            region="Beirut",
        ),
        "sami": PersonFactory(
            organization=org_a,
            given_name="sami",
            tags=["volunteers"],
            language="fr",
            region="Saida",
        ),
        "lina": PersonFactory(
            organization=org_a,
            given_name="lina",
            tags=["donors"],
            language="en",
            region="Beirut",
        ),
        "omar": PersonFactory(organization=org_a, given_name="omar", language="ar"),
    }
    consent(everyone["rana"], Channel.EMAIL)
    consent(everyone["rana"], Channel.SMS)
    consent(
        everyone["sami"], Channel.EMAIL, ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE
    )
    consent(everyone["lina"], Channel.SMS)
    consent(everyone["omar"], Channel.EMAIL, ConsentStatus.PENDING)
    twin = PersonFactory(
        organization=org_b,
        given_name="twin",
        tags=["volunteers", "donors"],
        language="ar",
        region="Beirut",
    )
    consent(twin, Channel.EMAIL)
    consent(twin, Channel.SMS)
    return everyone


class TestCriteria:
    def test_tags_any(self, org_a, people) -> None:
        definition = {"tags_any": tag_ids(org_a, "volunteers", "donors")}
        assert names(org_a, definition) == {"rana", "sami", "lina"}

    def test_tags_all(self, org_a, people) -> None:
        definition = {"tags_all": tag_ids(org_a, "volunteers", "donors")}
        assert names(org_a, definition) == {"rana"}

    def test_tags_none(self, org_a, people) -> None:
        assert names(org_a, {"tags_none": tag_ids(org_a, "volunteers")}) == {"lina", "omar"}

    @pytest.mark.parametrize(
        ("key", "value", "expected"),
        [
            ("consent_email", "granted", {"rana"}),
            # withdrawn, waiting for confirmation, or never asked
            ("consent_email", "not_granted", {"sami", "lina", "omar"}),
            ("consent_sms", "granted", {"rana", "lina"}),
            ("consent_sms", "not_granted", {"sami", "omar"}),
        ],
    )
    def test_consent(self, org_a, people, key, value, expected) -> None:
        assert names(org_a, {key: value}) == expected

    def test_language(self, org_a, people) -> None:
        assert names(org_a, {"language": ["ar", "fr"]}) == {"rana", "sami", "omar"}

    def test_region(self, org_a, people) -> None:
        assert names(org_a, {"region": ["Beirut"]}) == {"rana", "lina"}

    def test_added_between_two_days_inclusive(self, org_a) -> None:
        for day in (9, 10, 11, 12):
            PersonFactory(
                organization=org_a,
                given_name=f"d{day}",
                created_at=dt.datetime(2026, 3, day, 12, tzinfo=BEIRUT),
            )

        assert names(org_a, {"created_from": "2026-03-10"}) == {"d10", "d11", "d12"}
        assert names(org_a, {"created_until": "2026-03-11"}) == {"d9", "d10", "d11"}
        assert names(org_a, {"created_from": "2026-03-10", "created_until": "2026-03-11"}) == {
            "d10",
            "d11",
        }

    def test_days_are_counted_in_the_active_time_zone(self, org_a) -> None:
        # 00:30 in Beirut on 11 March is still 10 March in UTC.
        PersonFactory(
            organization=org_a,
            given_name="night",
            created_at=dt.datetime(2026, 3, 11, 0, 30, tzinfo=BEIRUT),
        )

        with timezone.override(BEIRUT):
            assert names(org_a, {"created_from": "2026-03-11"}) == {"night"}
        with timezone.override(dt.UTC):
            assert names(org_a, {"created_from": "2026-03-11"}) == set()


class TestCombining:
    def test_criteria_are_all_required(self, org_a, people) -> None:
        definition = {
            "tags_any": tag_ids(org_a, "volunteers", "donors"),
            "region": ["Beirut"],
            "consent_sms": "granted",
            "language": ["en"],
        }
        assert names(org_a, definition) == {"lina"}

    def test_no_criteria_and_empty_values_select_everybody(self, org_a, people) -> None:
        everybody = {"rana", "sami", "lina", "omar"}
        assert names(org_a, {}) == everybody
        assert (
            names(
                org_a,
                {"tags_any": [], "language": [], "consent_email": "", "created_from": None},
            )
            == everybody
        )

    def test_a_criterion_nobody_knows_any_more_matches_nobody(self, org_a, people) -> None:
        # given a segment saved with a criterion of an app since removed
        definition = {"signed_petition": [7], "language": ["en"]}
        # then it selects nobody, rather than everybody the other criteria allow
        assert names(org_a, definition) == set()
        assert segments.evaluate(org_a, definition).count == 0

    def test_newest_first(self, org_a, people) -> None:
        ids = list(segments.matching(org_a, {}).values_list("pk", flat=True))
        assert ids == sorted(ids, reverse=True)


class TestScoping:
    def test_people_of_another_organization_are_never_counted(self, org_a, org_b, people) -> None:
        definition = {
            "tags_all": tag_ids(org_a, "volunteers", "donors"),
            "consent_email": "granted",
            "language": ["ar"],
            "region": ["Beirut"],
        }

        evaluation = segments.evaluate(org_a, definition)

        assert evaluation.count == 1
        assert [p.given_name for p in evaluation.preview] == ["rana"]
        assert segments.evaluate(org_b, {}).count == 1

    def test_another_organizations_tags_select_nobody(self, org_a, org_b, people) -> None:
        foreign = tag_ids(org_b, "volunteers")

        assert names(org_a, {"tags_any": foreign}) == set()
        assert names(org_a, {"tags_all": foreign}) == set()
        assert names(org_a, {"tags_none": foreign}) == {"rana", "sami", "lina", "omar"}

    def test_the_tag_field_offers_only_the_organizations_tags(self, org_a, people) -> None:
        field = segments.criterion("tags_any").form_field(org_a)

        assert isinstance(field, forms.ModelMultipleChoiceField)
        assert set(field.queryset) == set(Tag.objects.filter(organization=org_a))

    def test_the_region_field_offers_only_the_organizations_regions(
        self, org_a, org_b, people
    ) -> None:
        PersonFactory(organization=org_b, region="Zahle")

        field = segments.criterion("region").form_field(org_a)

        assert [value for value, _ in field.choices] == ["Beirut", "Saida"]


class TestEvaluate:
    def test_count_and_preview_come_from_one_query(
        self, org_a, people, django_assert_num_queries
    ) -> None:
        for i in range(12):
            PersonFactory(organization=org_a, given_name=f"extra{i}", tags=["volunteers"])
        definition = {"tags_any": tag_ids(org_a, "volunteers"), "consent_email": "not_granted"}
        expected = list(segments.matching(org_a, definition))

        with django_assert_num_queries(1):
            evaluation = segments.evaluate(org_a, definition)
            preview_names = [p.given_name for p in evaluation.preview]

        assert evaluation.count == len(expected) == 13
        assert preview_names == [p.given_name for p in expected[: segments.PREVIEW_SIZE]]

    def test_nobody_matching_is_one_query_too(
        self, org_a, people, django_assert_num_queries
    ) -> None:
        with django_assert_num_queries(1):
            evaluation = segments.evaluate(org_a, {"region": ["Nowhere"]})

        assert (evaluation.count, evaluation.preview) == (0, [])

    def test_form_values_are_stored_as_json(self, org_a, people) -> None:
        tags = list(Tag.objects.filter(organization=org_a).order_by("-name"))

        assert segments.criterion("tags_any").to_json(tags) == sorted(t.pk for t in tags)
        assert segments.criterion("created_from").to_json(dt.date(2026, 3, 10)) == "2026-03-10"
        assert segments.criterion("created_until").to_json(None) is None


class HasPhone(segments.Criterion):
    key = "test_has_phone"
    label = "Has a phone number"

    def form_field(self, organization):
        return forms.BooleanField(required=False)

    def to_q(self, organization, value):
        has = Q(Exists(PersonPhone.objects.filter(person=OuterRef("pk"))))
        return has if value else ~has


@pytest.fixture
def has_phone():
    segments.register(HasPhone)
    yield segments.criterion(HasPhone.key)
    segments._REGISTRY.pop(HasPhone.key, None)


class TestRegistry:
    def test_the_built_in_criteria_are_registered(self) -> None:
        assert {c.key for c in segments.criteria()} >= {
            "tags_any",
            "tags_all",
            "tags_none",
            "consent_email",
            "consent_sms",
            "language",
            "region",
            "created_from",
            "created_until",
        }

    def test_a_criterion_registered_by_another_app_is_used(
        self, org_a, people, has_phone, django_assert_num_queries
    ) -> None:
        PersonFactory(organization=org_a, given_name="caller", phone="+9613123456", language="ar")

        assert isinstance(has_phone, HasPhone)
        assert has_phone in segments.criteria()
        assert names(org_a, {"test_has_phone": True}) == {"caller"}
        with django_assert_num_queries(1):
            evaluation = segments.evaluate(org_a, {"test_has_phone": True, "language": ["ar"]})
        assert evaluation.count == 1
        assert [p.given_name for p in evaluation.preview] == ["caller"]
        assert names(org_a, {"test_has_phone": False}) == {"rana", "sami", "lina", "omar"}
