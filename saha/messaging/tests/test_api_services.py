"""What the API needed from the services: a token as the actor of a broadcast,
and the counts of several segments at once."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.core.models import AuditEntry
from saha.messaging import broadcasts
from saha.messaging.broadcasts import BroadcastData
from saha.messaging.models import BroadcastStatus, MessagingSettings
from saha.messaging.tests.factories import recipient
from saha.supporters import segments
from saha.supporters.models import Channel, Segment
from saha.supporters.subject import save_segment
from saha.supporters.tests.people_factories import PersonFactory

TOKEN = "api:sync (saha_abc…)"


def _draft(organization: Any) -> Any:
    data = BroadcastData(name="Rally", channel=Channel.EMAIL, segment=None, fallback_language="en")
    broadcast = broadcasts.create_broadcast(actor=TOKEN, organization=organization, data=data)
    broadcasts.save_version(
        actor=TOKEN, broadcast=broadcast, language="en", subject="Come", body="Saturday."
    )
    return broadcast


def test_a_token_creates_a_broadcast_that_names_no_member(org_a: Any) -> None:
    broadcast = _draft(org_a)
    assert broadcast.created_by is None
    entry = AuditEntry.objects.get(action="messaging.broadcast.created")
    assert entry.actor_label == TOKEN


def test_a_token_asking_to_send_waits_for_the_approval_the_organization_requires(
    org_a: Any, admin: Any
) -> None:
    MessagingSettings.objects.create(organization=org_a, broadcast_requires_approval=True)
    broadcast = _draft(org_a)
    broadcasts.request_send(actor=TOKEN, broadcast=broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL
    assert broadcast.requested_by is None
    # any owner or admin approves it: nobody asked in their own name
    broadcasts.approve(actor=admin.user, broadcast=broadcast)
    assert broadcast.status == BroadcastStatus.PREPARING


def test_a_token_asking_to_send_without_required_approval_sends(org_a: Any) -> None:
    broadcast = _draft(org_a)
    broadcasts.request_send(actor=TOKEN, broadcast=broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.PREPARING
    assert broadcast.requested_by is None


def test_counts_of_several_segments_in_one_query(org_a: Any, org_b: Any) -> None:
    PersonFactory(organization=org_a, language="ar")
    PersonFactory(organization=org_a, language="ar")
    PersonFactory(organization=org_a, language="fr")
    PersonFactory(organization=org_b, language="ar")
    recipient(org_a, email="a@example.org", language="en")
    arabic = save_segment(
        actor=None, organization=org_a, name="Arabic", definition={"language": ["ar"]}
    )
    everyone = save_segment(actor=None, organization=org_a, name="All", definition={})
    agreed = save_segment(
        actor=None, organization=org_a, name="Agreed", definition={"consent_email": "granted"}
    )
    gone = Segment.objects.create(
        organization=org_a, name="Old", definition={"removed_criterion": 1}
    )
    with CaptureQueriesContext(connection) as queries:
        counts = segments.counts(org_a, [arabic, everyone, agreed, gone])
    assert counts == {arabic.pk: 2, everyone.pk: 4, agreed.pk: 1, gone.pk: 0}
    assert len(queries) == 1
    for segment in (arabic, everyone, agreed):
        assert counts[segment.pk] == segments.evaluate(org_a, segment.definition).count


def test_counts_of_no_segments_is_no_query(org_a: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert segments.counts(org_a, []) == {}
    assert not queries
