from __future__ import annotations

import io
import zoneinfo
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from saha.core.models import AuditEntry
from saha.organizations.models import Invitation, Membership
from saha.organizations.roles import Role
from saha.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def url(name: str, organization, **kwargs) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"organizations:{name}", kwargs={"slug": organization.slug, **kwargs})


class TestAccessByRole:
    @pytest.mark.parametrize(
        ("page", "allowed"),
        [
            ("dashboard", {"owner", "admin", "organizer", "checkin_staff"}),
            ("members", {"owner", "admin"}),
            ("settings", {"owner", "admin"}),
            ("audit", {"owner", "admin"}),
        ],
    )
    def test_each_page_answers_by_role(self, request, page: str, allowed: set[str]) -> None:
        for persona_name in ("owner", "admin", "organizer", "checkin_staff"):
            persona = request.getfixturevalue(persona_name)
            response = persona.client().get(url(page, persona.organization))
            expected = 200 if persona_name in allowed else 403
            assert response.status_code == expected, (persona_name, page)

    def test_anonymous_is_sent_to_sign_in(self, client, owner) -> None:
        response = client.get(url("dashboard", owner.organization))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_forbidden_page_is_translated(self, checkin_staff) -> None:
        response = checkin_staff.client().get(
            url("members", checkin_staff.organization), HTTP_ACCEPT_LANGUAGE="fr"
        )
        assert response.status_code == 403
        assert 'lang="fr"' in response.content.decode()


def test_home_goes_straight_to_the_only_organization(owner) -> None:
    response = owner.client().get(reverse("organizations:home"))
    assert response["Location"] == url("dashboard", owner.organization)


def test_home_lists_organizations_to_switch_between(owner, org_b) -> None:
    Membership.objects.create(organization=org_b, user=owner.user, role=Role.VIEWER)
    client = owner.client()
    response = client.get(reverse("organizations:home"))
    assert response.status_code == 200
    assert org_b.name in response.content.decode()
    # after visiting B, home remembers it
    client.get(url("dashboard", org_b))
    assert client.get(reverse("organizations:home"))["Location"] == url("dashboard", org_b)


def test_an_organization_requiring_mfa_sends_members_to_enrol(owner) -> None:
    owner.organization.require_mfa = True
    owner.organization.save()
    response = owner.client().get(url("dashboard", owner.organization))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


def test_create_organization_is_for_operators_unless_sign_up_is_open(
    owner, settings, tmp_path
) -> None:
    settings.SAHA_OPEN_SIGNUP = False
    settings.MEDIA_ROOT = tmp_path
    client = owner.client()
    assert client.get(reverse("organizations:create")).status_code == 403
    owner.user.is_staff = True
    owner.user.save()
    response = client.post(
        reverse("organizations:create"),
        {
            "slug": "harbour-friends",
            "name_ar": "أصدقاء المرفأ",
            "name_en": "",
            "name_fr": "",
            "default_language": "ar",
            "time_zone": "Asia/Beirut",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/manage/harbour-friends/"


def test_create_organization_shows_errors_without_saving(owner) -> None:
    owner.user.is_staff = True
    owner.user.save()
    response = owner.client().post(
        reverse("organizations:create"),
        {
            "slug": "Bad Slug!",
            "default_language": "xx",
            "time_zone": "Nowhere",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {
        "slug",
        "default_language",
        "time_zone",
        "__all__",
    }


def png(size: int = 8) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "green").save(buffer, "PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def test_settings_save_names_about_and_logo(owner, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    response = owner.client().post(
        url("settings", owner.organization),
        {
            "name_ar": "الاسم",
            "name_en": "The Name",
            "name_fr": "",
            "about_ar": "",
            "about_en": "We clean the beach.",
            "about_fr": "",
            "default_language": "en",
            "time_zone": "Asia/Beirut",
            "contact_email": "",
            "logo": png(),
        },
    )
    assert response.status_code == 302
    owner.organization.refresh_from_db()
    assert owner.organization.names == {"ar": "الاسم", "en": "The Name"}
    assert owner.organization.about == {"en": "We clean the beach."}
    assert owner.organization.logo.name.endswith("logo.png")


def test_settings_refuse_a_file_that_is_not_an_image(owner) -> None:
    response = owner.client().post(
        url("settings", owner.organization),
        {
            "name_en": "Name",
            "default_language": "en",
            "time_zone": "Asia/Beirut",
            "logo": SimpleUploadedFile("logo.png", b"not an image", content_type="image/png"),
        },
    )
    assert response.status_code == 200
    assert "logo" in response.context["form"].errors


class TestMembersPage:
    def test_invite_from_the_page(self, owner, django_capture_on_commit_callbacks) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.client().post(
                url("members", owner.organization),
                {"email": "new@example.org", "role": "organizer"},
            )
        assert response.status_code == 302
        assert Invitation.objects.for_org(owner.organization).pending().count() == 1
        assert len(mail.outbox) == 1

    def test_removing_the_last_owner_answers_409_and_keeps_them(self, owner) -> None:
        response = owner.client().post(
            url("remove_member", owner.organization, pk=owner.membership.pk)
        )
        assert response.status_code == 409
        assert Membership.objects.filter(pk=owner.membership.pk).exists()

    def test_change_role_and_revoke(self, owner, organizer) -> None:
        client = owner.client()
        client.post(
            url("change_role", owner.organization, pk=organizer.membership.pk), {"role": "viewer"}
        )
        organizer.membership.refresh_from_db()
        assert organizer.membership.role == "viewer"
        client.post(
            url("members", owner.organization), {"email": "x@example.org", "role": "viewer"}
        )
        invitation = Invitation.objects.for_org(owner.organization).get()
        client.post(url("revoke_invitation", owner.organization, pk=invitation.pk))
        invitation.refresh_from_db()
        assert invitation.revoked_at is not None

    def test_a_bad_role_changes_nothing(self, owner, organizer) -> None:
        owner.client().post(
            url("change_role", owner.organization, pk=organizer.membership.pk), {"role": "emperor"}
        )
        organizer.membership.refresh_from_db()
        assert organizer.membership.role == "organizer"

    def test_members_page_queries_do_not_grow_with_members(
        self, owner, django_assert_max_num_queries
    ) -> None:
        client = owner.client()
        for _ in range(3):
            Membership.objects.create(
                organization=owner.organization, user=UserFactory(), role=Role.VIEWER
            )
        with django_assert_max_num_queries(16) as few:
            client.get(url("members", owner.organization))
        for _ in range(10):
            Membership.objects.create(
                organization=owner.organization, user=UserFactory(), role=Role.VIEWER
            )
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(url("members", owner.organization))


class TestInvitationLink:
    def invite(self, owner, email: str = "x@example.org") -> str:  # type: ignore[no-untyped-def]
        from saha.organizations.services import invite_member

        return invite_member(actor_membership=owner.membership, email=email, role=Role.ORGANIZER)[1]

    def open_link(self, client, token: str):  # type: ignore[no-untyped-def]
        response = client.get(reverse("organizations:invitation", args=[token]))
        # the secret leaves the address bar at once
        assert response["Location"] == reverse("organizations:invitation_accept")
        return client.get(response["Location"])

    def test_the_invited_address_accepts(self, owner) -> None:
        token = self.invite(owner)
        client = owner.client()
        client.force_login(UserFactory(email="x@example.org"))
        assert self.open_link(client, token).status_code == 200
        response = client.post(reverse("organizations:invitation_accept"))
        assert response["Location"] == url("dashboard", owner.organization)
        assert Membership.objects.get(user__email="x@example.org").role == Role.ORGANIZER

    def test_someone_else_holding_the_link_cannot_accept(self, owner) -> None:
        token = self.invite(owner)
        client = owner.client()
        stranger = UserFactory(email="stranger@example.org")
        client.force_login(stranger)
        page = self.open_link(client, token)
        assert page.context["holds_address"] is False
        response = client.post(reverse("organizations:invitation_accept"))
        assert response.status_code == 403
        assert not Membership.objects.filter(user=stranger).exists()
        assert Invitation.objects.for_org(owner.organization).pending().exists()

    def test_a_newcomer_signs_up_with_the_invited_address_only(
        self, client, owner, settings
    ) -> None:
        from django.contrib.auth import get_user_model

        settings.SAHA_OPEN_SIGNUP = False
        self.open_link(client, self.invite(owner))
        signup = {"password1": "a long new passphrase", "password2": "a long new passphrase"}
        refused = client.post(reverse("account_signup"), {**signup, "email": "other@example.org"})
        assert "email" in refused.context["form"].errors
        accepted = client.post(reverse("account_signup"), {**signup, "email": "x@example.org"})
        assert accepted.status_code == 302
        assert list(
            get_user_model().objects.values_list("email", flat=True).order_by("email")
        ) == sorted([owner.user.email, "x@example.org"])

    def test_sign_up_is_closed_without_an_invitation(self, client, settings) -> None:
        settings.SAHA_OPEN_SIGNUP = False
        page = client.get(reverse("account_signup"))
        assert "account/signup_closed.html" in [t.name for t in page.templates]
        client.post(
            reverse("account_signup"),
            {
                "email": "y@example.org",
                "password1": "a long new passphrase",
                "password2": "a long new passphrase",
            },
        )
        from django.contrib.auth import get_user_model

        assert not get_user_model().objects.filter(email="y@example.org").exists()

    def test_an_unknown_token_answers_404(self, client) -> None:
        assert client.get(reverse("organizations:invitation", args=["nope"])).status_code == 404
        assert client.get(reverse("organizations:invitation_accept")).status_code == 404

    def test_the_email_link_opens_the_invitation(
        self, owner, client, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            self.invite(owner)
        link = next(line for line in mail.outbox[0].body.splitlines() if "/invitations/" in line)
        assert (
            self.open_link(client, link.rsplit("/invitations/", 1)[1].strip("/")).status_code == 200
        )


def test_audit_page_filters_by_action_and_pages(owner) -> None:
    from saha.core import audit

    for n in range(60):
        audit.log(owner.user, "test.thing", owner.organization, {"n": n})
    audit.log(owner.user, "test.other", owner.organization)
    client = owner.client()
    first = client.get(url("audit", owner.organization), {"action": "test.thing"})
    entries = first.context["entries"]
    assert len(entries) == 50
    assert {e.action for e in entries} == {"test.thing"}
    second = client.get(
        url("audit", owner.organization), {"action": "test.thing", "before": first.context["older"]}
    )
    assert len(second.context["entries"]) == 10
    assert AuditEntry.objects.for_org(owner.organization).count() >= 61


def test_public_page_shows_no_member(owner, client) -> None:
    response = client.get(reverse("organizations:public", args=[owner.organization.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert owner.organization.name in body
    assert owner.user.email not in body
    assert "<script" not in body  # public pages need no JavaScript


def test_times_are_shown_in_the_organizations_time_zone(owner) -> None:
    from saha.core import audit

    owner.organization.time_zone = "America/Montreal"
    owner.organization.save()
    entry = audit.log(owner.user, "test.thing", owner.organization)
    response = owner.client().get(url("audit", owner.organization))
    local = entry.created.astimezone(zoneinfo.ZoneInfo("America/Montreal"))
    assert f'datetime="{local.isoformat()}"' in response.content.decode()


def test_admins_see_owner_rows_read_only(owner, admin) -> None:
    body = admin.client().get(url("members", owner.organization)).content.decode()
    assert f'id="role-{owner.membership.pk}"' not in body
    assert url("remove_member", owner.organization, pk=owner.membership.pk) not in body
    assert f'id="role-{admin.membership.pk}"' in body


def test_a_member_without_member_management_can_leave_from_the_dashboard(owner, organizer) -> None:
    client = organizer.client()
    leave = url("remove_member", owner.organization, pk=organizer.membership.pk)
    assert leave in client.get(url("dashboard", owner.organization)).content.decode()
    assert client.post(leave)["Location"] == reverse("organizations:home")
    assert not Membership.objects.filter(pk=organizer.membership.pk).exists()


def test_an_organization_page_does_not_save_an_unchanged_session(owner: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = owner.mfa_client()
    url = f"/manage/{owner.organization.slug}/"
    client.get(url)  # the first visit remembers the organization
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    writes = [
        query["sql"]
        for query in captured.captured_queries
        if "django_session" in query["sql"] and not query["sql"].startswith("SELECT")
    ]
    assert writes == []
