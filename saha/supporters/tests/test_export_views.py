"""Exports: MFA session, approval by a second admin, one download, audit with the count,
formula cells neutralized."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.supporters.exporting import neutralize
from saha.supporters.models import ExportRequest, ExportStatus, PrivacySettings, Segment
from saha.supporters.services import PersonData, upsert_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(owner):
    for index, name in enumerate(["=cmd|' /C calc'!A0", "Rania", "@SUM(1)"]):
        upsert_person(
            organization=owner.organization,
            actor=owner.user,
            data=PersonData(email=f"p{index}@example.org", given_name=name, tags=["north"]),
            source="manual",
        )


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_needs_a_session_that_passed_mfa(data_steward) -> None:
    url = reverse("supporters:export_list", args=[data_steward.organization.slug])
    # without MFA enrolled: sent to set it up
    response = data_steward.client().get(url)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")
    # with an MFA session: the page
    assert data_steward.mfa_client().get(url).status_code == 200


def test_a_data_steward_exports_everybody_once_and_it_is_audited(data_steward, people) -> None:
    client = data_steward.mfa_client()
    slug = data_steward.organization.slug
    client.post(reverse("supporters:export_list", args=[slug]), {"segment": ""})
    export = ExportRequest.objects.get()
    assert export.status == ExportStatus.APPROVED
    download = reverse("supporters:export_download", args=[slug, export.pk])
    rows = rows_of(client.post(download))
    assert rows[0][:4] == ["id", "given_name", "family_name", "email"]
    names = sorted(row[1] for row in rows[1:])
    assert names == ["'=cmd|' /C calc'!A0", "'@SUM(1)", "Rania"]
    entry = AuditEntry.objects.get(action="supporters.export.downloaded")
    assert entry.data["rows"] == 3 and entry.actor == data_steward.user
    # a second download of the same export is refused
    assert client.post(download).status_code == 409


def test_with_approval_required_a_second_admin_must_approve(owner, admin, people) -> None:
    PrivacySettings.objects.create(organization=owner.organization, export_requires_approval=True)
    slug = owner.organization.slug
    segment = Segment.objects.create(organization=owner.organization, name="All", definition={})
    asker = admin.mfa_client()
    asker.post(reverse("supporters:export_segment", args=[slug, segment.pk]))
    export = ExportRequest.objects.get()
    assert export.status == ExportStatus.PENDING
    download = reverse("supporters:export_download", args=[slug, export.pk])
    assert asker.post(download).status_code == 409
    decide = reverse("supporters:export_decide", args=[slug, export.pk])
    # the asker cannot approve their own export
    assert asker.post(decide, {"decision": "approve"}).status_code == 403
    # the owner approves
    assert owner.mfa_client().post(decide, {"decision": "approve"}).status_code == 302
    # only the asker downloads
    assert owner.mfa_client().post(download).status_code == 403
    rows = rows_of(asker.post(download))
    assert len(rows) == 4
    actions = list(
        AuditEntry.objects.filter(action__startswith="supporters.export").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == [
        "supporters.export.approved",
        "supporters.export.downloaded",
        "supporters.export.requested",
    ]


def test_an_organizer_cannot_export(organizer) -> None:
    url = reverse("supporters:export_list", args=[organizer.organization.slug])
    assert organizer.mfa_client().get(url).status_code == 403


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+961 3 123 456", "'+961 3 123 456"),
        ("-2", "'-2"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("Rania", "Rania"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralized(cell: str, safe: str) -> None:
    assert neutralize(cell) == safe


def test_what_was_approved_is_what_is_downloaded(owner, admin, people) -> None:
    # given an export of a segment of nobody, asked for and approved
    PrivacySettings.objects.create(organization=owner.organization, export_requires_approval=True)
    slug = owner.organization.slug
    segment = Segment.objects.create(
        organization=owner.organization, name="Nobody", definition={"language": ["fr"]}
    )
    asker = admin.mfa_client()
    asker.post(reverse("supporters:export_segment", args=[slug, segment.pk]))
    export = ExportRequest.objects.get()
    assert export.requested_count == 0
    decide = reverse("supporters:export_decide", args=[slug, export.pk])
    owner.mfa_client().post(decide, {"decision": "approve"})
    # when the segment is widened to everybody after the approval
    segment.definition = {}
    segment.save()
    # then the download holds what was approved: nobody
    rows = rows_of(asker.post(reverse("supporters:export_download", args=[slug, export.pk])))
    assert len(rows) == 1  # the header
