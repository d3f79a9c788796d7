from __future__ import annotations

import pytest

from saha.core import audit
from saha.core.models import AuditEntry


@pytest.mark.django_db
def test_log_records_actor_target_and_organization(owner) -> None:
    entry = audit.log(owner.user, "organizations.updated", owner.organization, {"fields": ["x"]})
    assert entry.organization == owner.organization
    assert entry.actor == owner.user
    assert entry.actor_label == str(owner.user)
    assert (entry.target_type, entry.target_id) == (
        "organizations.organization",
        str(owner.organization.pk),
    )
    assert entry.data == {"fields": ["x"]}


@pytest.mark.django_db
def test_organization_is_taken_from_the_target(owner) -> None:
    entry = audit.log("system:worker", "organizations.member.touched", owner.membership)
    assert entry.organization == owner.organization
    assert entry.actor is None
    assert entry.actor_label == "system:worker"


@pytest.mark.django_db
def test_the_log_is_append_only(owner) -> None:
    entry = audit.log(owner.user, "x.y", owner.organization)
    entry.action = "rewritten"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="rewritten")
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "x.y"


@pytest.mark.django_db
def test_entries_survive_the_user(owner) -> None:
    entry = audit.log(owner.user, "x.y", owner.organization)
    label = entry.actor_label
    owner.user.delete()
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_label == label
