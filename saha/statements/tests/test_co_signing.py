"""Co-signing: the host asks another organization; only an admin of that organization
accepts or declines, from its own pages; only then is it named; the host may remove it.
An organization that was not asked sees nothing of the statement."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.organizations.roles import Role
from saha.statements import queries, services
from saha.statements.models import CoSigner, Statement
from saha.statements.tests.helpers import TEXTS, make_statement
from saha.testing.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def url(name: str, slug: str, *args: Any) -> str:
    return reverse(f"statements:{name}", args=[slug, *args])


@pytest.fixture
def asked(org_a: Any, org_b: Any, organizer: Any) -> Statement:
    """A draft of A that A's organizer asked B to co-sign."""
    statement = make_statement(org_a)
    client = organizer.client()
    response = client.post(
        url("manage_co_signer_add", "org-a", statement.pk), {"organization": "org-b"}
    )
    assert response.status_code == 302
    return statement


def named_on(client: Client, statement: Statement) -> bool:
    page = client.get(f"/o/org-a/statements/{statement.slug}/en/", HTTP_ACCEPT_LANGUAGE="en")
    return "Organization org-b" in page.content.decode()


class TestTheService:
    def test_asked_once_named_only_once_accepted_by_an_admin(
        self, org_a: Any, org_b: Any, outsider: Any
    ) -> None:
        statement = make_statement(org_a)
        assert services.invite_co_signer(actor="test", statement=statement, co_signer=org_b)
        assert not services.invite_co_signer(actor="test", statement=statement, co_signer=org_b)
        viewer = MembershipFactory(organization=org_b, role=Role.VIEWER).user
        organizer_of_b = MembershipFactory(organization=org_b, role=Role.ORGANIZER).user
        stranger = MembershipFactory(role=Role.OWNER).user  # an owner elsewhere
        for user in (viewer, organizer_of_b, stranger):
            with pytest.raises(DomainError) as refused:
                services.accept_co_signing(actor=user, statement=statement, co_signer=org_b)
            assert refused.value.code == "not_admin"
        assert services.accept_co_signing(actor=outsider.user, statement=statement, co_signer=org_b)
        assert not services.accept_co_signing(
            actor=outsider.user, statement=statement, co_signer=org_b
        )
        link = CoSigner.objects.get()
        assert link.accepted_by == outsider.user and link.organization_id == org_a.pk
        # both organizations' logs say so
        accepted = AuditEntry.objects.filter(action="statements.co_signer.accepted")
        assert sorted(accepted.values_list("organization__slug", flat=True)) == ["org-a", "org-b"]

    def test_an_organization_does_not_co_sign_its_own_statement(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        with pytest.raises(DomainError) as refused:
            services.invite_co_signer(actor="test", statement=statement, co_signer=org_a)
        assert refused.value.code == "own_statement"

    def test_a_withdrawn_statements_signatories_are_kept_as_they_were(
        self, org_a: Any, org_b: Any
    ) -> None:
        statement = make_statement(org_a, publish=True)
        services.invite_co_signer(actor="test", statement=statement, co_signer=org_b)
        services.accept_co_signing(actor="test", statement=statement, co_signer=org_b)
        services.withdraw(actor="test", statement=statement, notes={"en": "Old."})
        third = OrganizationFactory(slug="org-c")
        for change in (
            lambda: services.invite_co_signer(actor="test", statement=statement, co_signer=third),
            lambda: services.remove_co_signer(actor="test", statement=statement, co_signer=org_b),
        ):
            with pytest.raises(DomainError) as refused:
                change()
            assert refused.value.code == "withdrawn"
        assert CoSigner.objects.filter(accepted_at__isnull=False).count() == 1


class TestThePages:
    def test_the_admin_reads_the_draft_then_accepts_and_is_named(
        self, client: Client, asked: Statement, outsider: Any
    ) -> None:
        services.publish(actor="test", statement=asked)
        assert not named_on(client, asked)
        admin_of_b = outsider.client()
        listing = admin_of_b.get(url("co_signing_list", "org-b"), HTTP_ACCEPT_LANGUAGE="en")
        assert '<bdi lang="en">The shore belongs to everyone</bdi>' in listing.content.decode()
        page = admin_of_b.get(url("co_signing", "org-b", asked.pk))
        assert page.status_code == 200
        text = page.content.decode()
        assert '<article class="statement" lang="ar" dir="rtl">' in text
        assert "We ask that the beach stay open." in text
        response = admin_of_b.post(url("co_signing_accept", "org-b", asked.pk))
        assert response.status_code == 302
        assert named_on(client, asked)
        # the host removes it: no longer named
        host = MembershipFactory(organization=asked.organization, role=Role.ORGANIZER).user
        host_client = Client()
        host_client.force_login(host)
        response = host_client.post(
            url("manage_co_signer_remove", "org-a", asked.pk),
            {"organization": outsider.organization.pk},
        )
        assert response.status_code == 302 and not CoSigner.objects.exists()
        assert not named_on(client, asked)

    def test_the_admin_declines_and_the_invitation_is_gone(
        self, asked: Statement, outsider: Any
    ) -> None:
        client = outsider.client()
        assert client.post(url("co_signing_decline", "org-b", asked.pk)).status_code == 302
        assert not CoSigner.objects.exists()
        assert client.get(url("co_signing", "org-b", asked.pk)).status_code == 404

    def test_a_member_of_the_co_signer_who_is_not_an_admin_cannot_answer(
        self, asked: Statement, org_b: Any
    ) -> None:
        for role in (Role.ORGANIZER, Role.VIEWER):
            member = MembershipFactory(organization=org_b, role=role).user
            client = Client()
            client.force_login(member)
            assert client.get(url("co_signing_list", "org-b")).status_code == 403
            assert client.post(url("co_signing_accept", "org-b", asked.pk)).status_code == 403
        assert CoSigner.objects.get().accepted_at is None

    def test_an_organization_not_asked_gets_404(self, asked: Statement) -> None:
        third = MembershipFactory(organization=OrganizationFactory(slug="org-c"), role=Role.OWNER)
        client = Client()
        client.force_login(third.user)
        for name in ("co_signing", "co_signing_accept", "co_signing_decline"):
            method = client.get if name == "co_signing" else client.post
            assert method(url(name, "org-c", asked.pk)).status_code == 404
            assert method(url(name, "org-c", "999999")).status_code == 404
        assert CoSigner.objects.get().accepted_at is None

    def test_asking_a_web_address_that_does_not_exist_or_oneself_is_a_form_error(
        self, org_a: Any, org_b: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a)
        client = organizer.client()
        malformed = ("https://[x/o/abc/", "http://[::1/o/org-b/", "https://x]/o/org-b/")
        for typed in ("nobody-here", "org-a", "https://saha.example/o/org-a/", *malformed):
            response = client.post(
                url("manage_co_signer_add", "org-a", statement.pk), {"organization": typed}
            )
            assert response.status_code == 400, typed
            assert response.context["co_signer_form"].errors["organization"], typed
        assert not CoSigner.objects.exists()
        response = client.post(
            url("manage_co_signer_add", "org-a", statement.pk),
            {"organization": "https://saha.example/o/org-b/statements/"},
        )
        assert response.status_code == 302 and CoSigner.objects.get().co_signer.slug == "org-b"


class TestAskedAgainWhenTheTextChanges:
    """A co-signer accepted a text: reworded or cut, it is asked again and not named
    meanwhile; both organizations' logs say so."""

    @pytest.fixture
    def signed(self, org_a: Any, org_b: Any) -> Statement:
        statement = make_statement(org_a, languages=("ar", "en"), publish=True)
        services.invite_co_signer(actor="test", statement=statement, co_signer=org_b)
        services.accept_co_signing(actor="test", statement=statement, co_signer=org_b)
        return statement

    @staticmethod
    def reworded(**changes: str) -> services.VersionText:
        return dataclasses.replace(TEXTS["en"], **changes)

    def test_a_change_to_the_summary_or_the_place_keeps_them(
        self, client: Client, signed: Statement
    ) -> None:
        text = self.reworded(summary="Another summary.", place="Saida")
        services.save_version(actor="test", statement=signed, language="en", text=text)
        assert CoSigner.objects.get().accepted_at is not None
        assert not AuditEntry.objects.filter(action="statements.co_signer.asked_again").exists()
        assert named_on(client, signed)

    @pytest.mark.parametrize("field", ["title", "body"])
    def test_a_new_title_or_text_asks_them_again(
        self, client: Client, signed: Statement, org_b: Any, field: str
    ) -> None:
        text = self.reworded(**{field: "Changed after they signed."})
        services.save_version(actor="test", statement=signed, language="en", text=text)
        link = CoSigner.objects.get()
        assert link.accepted_at is None and link.accepted_by is None
        assert not named_on(client, signed)
        again = AuditEntry.objects.filter(action="statements.co_signer.asked_again")
        assert sorted(again.values_list("organization__slug", flat=True)) == ["org-a", "org-b"]
        assert all(entry.data["language"] == "en" for entry in again)
        # The invitation is open again; accepting the new text names it again.
        assert [i.statement_id for i in queries.invitations_for(org_b)] == [signed.pk]
        services.accept_co_signing(actor="test", statement=signed, co_signer=org_b)
        assert named_on(client, signed)

    def test_a_new_language_version_asks_them_again(self, signed: Statement) -> None:
        text = services.VersionText(title="Déclaration", body="Un texte qu'ils n'ont pas lu.")
        services.save_version(actor="test", statement=signed, language="fr", text=text)
        assert CoSigner.objects.get().accepted_at is None

    def test_removing_a_version_asks_them_again(self, signed: Statement) -> None:
        assert services.remove_version(actor="test", statement=signed, language="ar")
        assert CoSigner.objects.get().accepted_at is None
        again = AuditEntry.objects.filter(action="statements.co_signer.asked_again")
        assert sorted(again.values_list("organization__slug", flat=True)) == ["org-a", "org-b"]

    def test_the_host_is_warned_before_saving_and_told_after(
        self, client: Client, signed: Statement, organizer: Any
    ) -> None:
        host = organizer.client()
        edit = url("manage_version", "org-a", signed.pk, "en")
        assert 'class="message warning co-signers-warning"' in host.get(edit).content.decode()
        detail = host.get(url("manage_statement", "org-a", signed.pk)).content.decode()
        assert "co-signers-warning" in detail
        form = {"title": "A new title", "body": TEXTS["en"].body, "summary": "", "place": ""}
        response = host.post(edit, form, follow=True)
        assert response.status_code == 200
        assert CoSigner.objects.get().accepted_at is None
        assert len(list(response.context["messages"])) == 2  # saved; asked again
        assert not named_on(client, signed)
        # Nobody left to ask: no warning.
        assert "co-signers-warning" not in host.get(edit).content.decode()
