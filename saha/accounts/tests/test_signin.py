from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.testing.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_sign_in_lands_on_the_organizers_home_and_is_audited(client, owner) -> None:
    response = sign_in(client, owner.user.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("organizations:home")
    entry = AuditEntry.objects.get(action="accounts.signed_in")
    assert entry.actor == owner.user
    assert entry.ip_address == "127.0.0.1"


def test_a_wrong_password_is_audited_without_the_password(client) -> None:
    user = UserFactory()
    response = sign_in(client, user.email, "wrong password")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="accounts.sign_in_failed")
    assert entry.data == {"email": user.email}
    assert "wrong password" not in str(entry.data)


def error_codes(response) -> set[str]:  # type: ignore[no-untyped-def]
    form = response.context["form"]
    return {error.code for errors in form.errors.as_data().values() for error in errors}


def test_failed_sign_ins_are_rate_limited_per_account(client, settings) -> None:
    user = UserFactory()
    for _ in range(settings.SAHA_LOGIN_ATTEMPTS):
        assert "too_many_login_attempts" not in error_codes(
            sign_in(client, user.email, "wrong password")
        )
    # now even the right password is refused for a while
    response = sign_in(client, user.email, PASSWORD)
    assert "too_many_login_attempts" in error_codes(response)
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_are_rate_limited_per_address(client) -> None:
    for n in range(10):
        sign_in(client, f"nobody{n}@example.org", "wrong password")
    # a different account, from the same address
    user = UserFactory()
    response = sign_in(client, user.email, PASSWORD)
    assert "too_many_login_attempts" in error_codes(response)
    assert "_auth_user_id" not in client.session


def test_account_mail_is_queued_not_sent_in_the_request(
    client, django_capture_on_commit_callbacks
) -> None:
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("account_reset_password"), {"email": user.email})
    assert mail.outbox == []  # nothing left inside the request
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


@pytest.mark.parametrize("open_signup", [True, False])
def test_sign_in_page_offers_sign_up_only_when_it_is_open(client, settings, open_signup) -> None:
    settings.SAHA_OPEN_SIGNUP = open_signup
    body = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (reverse("account_signup") in body) is open_signup
    assert reverse("account_reset_password") in body  # "forgot your password?" either way


def test_mfa_changes_are_audited(owner) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.signals import authenticator_added, authenticator_removed
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    authenticator = Authenticator(user=owner.user, type=Authenticator.Type.TOTP, data={})
    authenticator_added.send(
        Authenticator, request=request, user=owner.user, authenticator=authenticator
    )
    authenticator_removed.send(
        Authenticator, request=request, user=owner.user, authenticator=authenticator
    )
    account = AuditEntry.objects.filter(actor=owner.user, organization=None)
    assert list(account.values_list("action", "data")) == [
        ("accounts.mfa_removed", {"type": "totp"}),
        ("accounts.mfa_added", {"type": "totp"}),
    ]
    # the owner's organization sees it in its own log
    in_organization = AuditEntry.objects.for_org(owner.organization).filter(actor=owner.user)
    assert list(in_organization.values_list("action", flat=True)) == [
        "accounts.mfa_removed",
        "accounts.mfa_added",
    ]


def test_totp_secrets_are_stored_encrypted(settings) -> None:
    from allauth.mfa.utils import decrypt, encrypt

    secret = "JBSWY3DPEHPK3PXP"
    stored = encrypt(secret)
    assert secret not in stored
    assert decrypt(stored) == secret
    # rotating SECRET_KEY with the old one as a fallback keeps it readable
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "n" * 30 + "ew-key-after-rotation-0123456789"
    assert decrypt(stored) == secret
    # a secret stored in the clear before encryption still reads
    assert decrypt(secret) == secret
