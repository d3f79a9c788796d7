from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from saha.core.errors import Conflict, DomainError, PermissionDeniedError
from saha.core.models import AuditEntry
from saha.organizations import services
from saha.organizations.models import Invitation, Membership, hash_token, invitation_token
from saha.organizations.roles import Role
from saha.testing.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_organization_makes_the_creator_owner(user_factory) -> None:
    user = user_factory()
    organization = services.create_organization(
        actor=user,
        slug="coast-watch",
        names={"ar": "رقابة الساحل", "en": "Coast Watch", "fr": ""},
        default_language="ar",
    )
    assert organization.names == {"ar": "رقابة الساحل", "en": "Coast Watch"}
    assert Membership.objects.get(organization=organization).role == Role.OWNER
    assert AuditEntry.objects.for_org(organization).filter(action="organizations.created").exists()


def test_create_organization_refuses_a_taken_or_reserved_slug(owner, user_factory) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.create_organization(
            actor=user_factory(),
            slug=owner.organization.slug,
            names={"en": "Again"},
            default_language="en",
        )
    with pytest.raises(ValidationError):
        services.create_organization(
            actor=user_factory(), slug="new", names={"en": "New"}, default_language="en"
        )


def test_update_organization_audits_changed_fields(owner) -> None:
    services.update_organization(
        actor=owner.user,
        organization=owner.organization,
        require_mfa=True,
        names=owner.organization.names,
    )
    entry = AuditEntry.objects.for_org(owner.organization).get(action="organizations.updated")
    assert entry.data == {"fields": ["require_mfa"]}


class TestInvitations:
    def test_invite_sends_an_email_after_commit(
        self, admin, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = services.invite_member(
                actor_membership=admin.membership,
                email="Sara@Example.org",
                role=Role.MESSENGER,
            )
            assert mail.outbox == []  # nothing leaves before the invitation is saved
        assert invitation.email == "sara@example.org"
        assert invitation.token_hash != token  # only the hash is stored
        assert token not in str(invitation.__dict__)
        assert len(mail.outbox) == 1
        assert f"/invitations/{token}/" in mail.outbox[0].body
        assert mail.outbox[0].to == ["sara@example.org"]

    def test_only_owners_invite_owners(self, admin, owner) -> None:
        with pytest.raises(PermissionDeniedError):
            services.invite_member(
                actor_membership=admin.membership, email="x@example.org", role=Role.OWNER
            )
        services.invite_member(
            actor_membership=owner.membership, email="x@example.org", role=Role.OWNER
        )

    def test_roles_without_member_management_cannot_invite(self, organizer) -> None:
        with pytest.raises(PermissionDeniedError):
            services.invite_member(
                actor_membership=organizer.membership, email="x@example.org", role=Role.VIEWER
            )

    def test_a_member_is_not_invited_again(self, admin, organizer) -> None:
        with pytest.raises(Conflict) as error:
            services.invite_member(
                actor_membership=admin.membership,
                email=organizer.user.email.upper(),
                role=Role.VIEWER,
            )
        assert error.value.code == "already_member"

    def test_a_new_invitation_replaces_the_pending_one(self, admin) -> None:
        _first, first_token = services.invite_member(
            actor_membership=admin.membership, email="x@example.org", role=Role.VIEWER
        )
        services.invite_member(
            actor_membership=admin.membership, email="x@example.org", role=Role.ORGANIZER
        )
        assert services.invitation_for_token(first_token) is None
        assert Invitation.objects.for_org(admin.organization).pending().get().role == "organizer"

    def test_accepting_makes_a_member_once(self, admin) -> None:
        _invitation, token = services.invite_member(
            actor_membership=admin.membership, email="x@example.org", role=Role.VIEWER
        )
        user = UserFactory(email="X@example.org")
        membership = services.accept_invitation(user=user, token=token)
        assert membership.role == Role.VIEWER
        with pytest.raises(DomainError) as error:
            services.accept_invitation(user=user, token=token)
        assert error.value.code == "invitation_invalid"

    def test_an_expired_or_withdrawn_invitation_is_refused(self, admin) -> None:
        invitation, token = services.invite_member(
            actor_membership=admin.membership, email="x@example.org", role=Role.VIEWER
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            expires=timezone.now() - dt.timedelta(seconds=1)
        )
        with pytest.raises(DomainError) as expired:
            services.accept_invitation(user=UserFactory(email="x@example.org"), token=token)
        assert expired.value.code == "invitation_invalid"
        invitation, token = services.invite_member(
            actor_membership=admin.membership, email="y@example.org", role=Role.VIEWER
        )
        services.revoke_invitation(actor_membership=admin.membership, invitation=invitation)
        with pytest.raises(DomainError) as withdrawn:
            services.accept_invitation(user=UserFactory(email="y@example.org"), token=token)
        assert withdrawn.value.code == "invitation_invalid"

    def test_only_the_invited_address_may_accept(self, admin) -> None:
        _invitation, token = services.invite_member(
            actor_membership=admin.membership, email="x@example.org", role=Role.ADMIN
        )
        with pytest.raises(PermissionDeniedError) as error:
            services.accept_invitation(user=UserFactory(email="stranger@example.org"), token=token)
        assert error.value.code == "invitation_email_mismatch"
        assert services.invitation_for_token(token) is not None  # still usable by its owner

    def test_a_member_using_an_invitation_keeps_their_role(self, admin, organizer) -> None:
        # invited before they joined by another way, say
        Invitation.objects.create(
            organization=admin.organization,
            email=organizer.user.email,
            role=Role.OWNER,
            salt="s" * 32,
            token_hash=hash_token(invitation_token("s" * 32)),
            language="en",
            expires=timezone.now() + dt.timedelta(days=1),
        )
        membership = services.accept_invitation(
            user=organizer.user, token=invitation_token("s" * 32)
        )
        assert membership.role == Role.ORGANIZER
        entry = AuditEntry.objects.for_org(admin.organization).get(
            action="organizations.member.invitation_used"
        )
        assert entry.data["invited_role"] == "owner"


class TestRoles:
    def test_the_last_owner_cannot_be_demoted_or_removed(self, owner) -> None:
        with pytest.raises(Conflict) as error:
            services.change_role(
                actor_membership=owner.membership, membership=owner.membership, role=Role.ADMIN
            )
        assert error.value.code == "last_owner"
        with pytest.raises(Conflict):
            services.remove_member(actor_membership=owner.membership, membership=owner.membership)

    def test_admins_cannot_touch_owners(self, owner, admin) -> None:
        with pytest.raises(PermissionDeniedError):
            services.change_role(
                actor_membership=admin.membership, membership=owner.membership, role=Role.VIEWER
            )
        with pytest.raises(PermissionDeniedError):
            services.remove_member(actor_membership=admin.membership, membership=owner.membership)

    def test_anyone_may_leave(self, owner, organizer) -> None:
        services.remove_member(
            actor_membership=organizer.membership, membership=organizer.membership
        )
        assert not Membership.objects.filter(pk=organizer.membership.pk).exists()
        assert (
            AuditEntry.objects.for_org(owner.organization)
            .filter(action="organizations.member.left")
            .exists()
        )

    def test_role_change_is_audited(self, owner, organizer) -> None:
        services.change_role(
            actor_membership=owner.membership,
            membership=organizer.membership,
            role=Role.DATA_STEWARD,
        )
        entry = AuditEntry.objects.for_org(owner.organization).get(
            action="organizations.member.role_changed"
        )
        assert entry.data["from"] == "organizer"
        assert entry.data["to"] == "data_steward"


needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="row locks are a PostgreSQL matter: set DATABASE_URL=postgres://... to run",
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(org_a) -> None:
    first = MembershipFactory(organization=org_a, role=Role.OWNER)
    second = MembershipFactory(organization=org_a, role=Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor: Membership, target: Membership) -> None:
        barrier.wait()
        try:
            services.change_role(actor_membership=actor, membership=target, role=Role.ADMIN)
            outcomes.append("demoted")
        except Conflict as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "last_owner"]
    assert Membership.objects.for_org(org_a).filter(role=Role.OWNER).count() == 1


def test_invitation_email_is_plain_text_in_the_inviters_language(
    admin, django_capture_on_commit_callbacks
) -> None:
    admin.organization.names = {"fr": "L'Association des Amis & Voisins"}
    admin.organization.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_member(
            actor_membership=admin.membership,
            email="x@example.org",
            role=Role.VIEWER,
            language="fr",
        )
    message = mail.outbox[0]
    assert "L'Association des Amis & Voisins" in message.subject
    assert "&amp;" not in message.body and "&#x27;" not in message.body
    assert "Pour accepter, ouvrez ce lien\u00a0:" in message.body
