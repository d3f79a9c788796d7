"""What the target receives: the printed document and the CSV name only the signers who
agreed to be shown (first name and town, as the form words it), count everyone else,
and the CSV is behind the second factor and audited with its row count."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.petitions import delivery, services
from saha.petitions.models import Petition, Signature
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.models import Person
from saha.supporters.services import PersonData, erase_person

pytestmark = pytest.mark.django_db


def sign(
    petition: Petition,
    n: int,
    *,
    shown: bool,
    confirmed: bool = True,
    comment: str = "",
    **fields: Any,
) -> Signature:
    data = PersonData(email=f"s{n}@example.org", language="en", **fields)
    signature = services.sign(
        petition=petition, data=data, show_name=shown, comment=comment
    ).signature
    if confirmed:
        services.confirm(signature=signature)
    return signature


def url(name: str, petition: Petition) -> str:
    return reverse(f"petitions:{name}", args=[petition.organization.slug, petition.pk])


def read_csv(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel shows Arabic names right
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.fixture
def petition(org_a: Any) -> Petition:
    """Two who agreed to be named, one who did not, one not yet confirmed."""
    petition = make_petition(org_a, targets="The municipality\nThe minister")
    sign(petition, 1, shown=True, given_name="Rania", family_name="Khoury", locality="Tyre")
    sign(
        petition,
        2,
        shown=False,
        given_name="Hidden",
        family_name="Person",
        locality="Secretville",
        comment="I work at the ministry",
    )
    sign(petition, 3, shown=True, given_name="=HYPERLINK(1)", locality="Saida", comment="+Yes")
    sign(petition, 4, shown=True, given_name="Late", confirmed=False)
    return petition


class TestCsv:
    def test_names_only_of_those_who_agreed_and_never_a_family_name(
        self, petition: Petition, admin: Any
    ) -> None:
        response = admin.mfa_client().get(url("manage_csv", petition))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        rows = read_csv(response)
        assert list(rows[0]) == ["signed_at", "confirmed", "given_name", "locality", "comment"]
        assert [(r["given_name"], r["locality"], r["confirmed"]) for r in rows] == [
            ("Rania", "Tyre", "yes"),
            ("", "", "yes"),  # did not agree: counted, not named, no comment
            ("'=HYPERLINK(1)", "Saida", "yes"),  # a formula is not run by the spreadsheet
            ("", "", "no"),  # not confirmed: not named (it may not be them)
        ]
        assert rows[2]["comment"] == "'+Yes"
        body = str(rows)
        for secret in ("Hidden", "Person", "Secretville", "ministry", "Khoury", "@example.org"):
            assert secret not in body
        assert rows[0]["signed_at"].endswith(("+00:00", "+02:00", "+03:00"))

    def test_the_download_is_audited_with_its_row_count(
        self, petition: Petition, admin: Any
    ) -> None:
        read_csv(admin.mfa_client().get(url("manage_csv", petition)))
        entry = AuditEntry.objects.get(action="petitions.signatures.exported")
        assert entry.data["rows"] == 4
        assert entry.target_id == str(petition.pk) and entry.organization == petition.organization

    def test_the_csv_needs_the_second_factor(self, petition: Petition, admin: Any) -> None:
        response = admin.client().get(url("manage_csv", petition))
        assert response.status_code == 302 and "csv" not in response["Location"].split("?")[0]
        assert not AuditEntry.objects.filter(action="petitions.signatures.exported").exists()

    def test_an_erased_signer_stays_a_row_without_a_name(
        self, petition: Petition, owner: Any
    ) -> None:
        rania = Person.objects.get(given_name="Rania")
        erase_person(actor=owner.user, person=rania)
        rows = list(delivery.csv_rows(petition))
        assert len(rows) == 5 and rows[1][2:] == ["", "", ""]


class TestDocument:
    def test_it_names_those_who_agreed_and_counts_the_others(
        self, petition: Petition, organizer: Any
    ) -> None:
        page = organizer.client().get(url("manage_document", petition), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        document = page.context["document"]
        # the public counter counts confirmed signatures: Late is not in it
        assert document.count == 3
        assert document.names == [("Rania", "Tyre"), ("=HYPERLINK(1)", "Saida")]
        assert document.others == 1
        html = page.content.decode()
        for shown in ("Rania", "Tyre", "The municipality", "The minister", "petitions/print.css"):
            assert shown in html
        for secret in ("Hidden", "Khoury", "Secretville", "ministry", "Late", "@example.org"):
            assert secret not in html
        assert "1 other signatory" in html

    def test_unconfirmed_signers_count_when_the_petition_says_so(self, petition: Petition) -> None:
        Petition.objects.filter(pk=petition.pk).update(count_unverified=True)
        petition.refresh_from_db()
        document = delivery.document(petition)
        assert document.count == 4
        # counted, but named only once confirmed: it may not be them who signed
        assert [name for name, _town in document.names] == ["Rania", "=HYPERLINK(1)"]

    def test_an_erased_signer_is_one_of_the_others(self, petition: Petition, owner: Any) -> None:
        erase_person(actor=owner.user, person=Person.objects.get(given_name="Rania"))
        document = delivery.document(petition)
        assert document.count == 3 and document.others == 2
        assert document.names == [("=HYPERLINK(1)", "Saida")]

    def test_the_document_is_in_the_language_asked_for(
        self, petition: Petition, organizer: Any
    ) -> None:
        page = organizer.client().get(url("manage_document", petition) + "?lang=ar")
        html = page.content.decode()
        assert 'lang="ar" dir="rtl"' in html and "أبقوا الشاطئ مفتوحًا" in html


def test_counts_of_a_page_of_petitions_in_one_query(
    org_a: Any, django_assert_num_queries: Any
) -> None:
    petitions = [make_petition(org_a, slug=f"p{n}", goal=2) for n in range(5)]
    sign(petitions[0], 1, shown=False)
    sign(petitions[0], 2, shown=False, confirmed=False)
    with django_assert_num_queries(1):
        progress = delivery.progresses(petitions)
    first = progress[petitions[0].pk]
    assert (first.count.verified, first.count.unverified, first.public, first.percent) == (
        1,
        1,
        1,
        50,
    )
    assert progress[petitions[4].pk].public == 0
