"""A sign-up that fills a known person's empty name and adds a phone number changes
their details: the audit log and the person.updated webhook say so."""

from __future__ import annotations

from typing import Any

import pytest

from saha.api.models import WebhookDelivery
from saha.api.tests.test_webhooks_events import allow_private, hook, person  # noqa: F401
from saha.core.models import AuditEntry
from saha.supporters.services import PersonData, upsert_person


@pytest.mark.usefixtures("allow_private")
def test_a_sign_up_that_fills_a_known_persons_details_tells_person_updated(
    org_a: Any,
    hook: Any,  # noqa: F811
) -> None:
    rima = upsert_person(
        organization=org_a, actor="test", data=PersonData(email="rima@example.org"), source="form"
    ).person
    WebhookDelivery.objects.all().delete()
    # the record helpers with a token, and every public form, go through this call
    upsert_person(
        organization=org_a,
        actor="api:sync (saha_x…)",
        data=PersonData(email="rima@example.org", given_name="Rima", phone="+961 71 222 333"),
        source="api",
    )
    rima.refresh_from_db()
    assert rima.given_name == "Rima" and rima.phones.count() == 1
    kinds = list(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert "person.updated" in kinds
    assert AuditEntry.objects.filter(action="supporters.person.updated").count() == 1
