"""Broadcast pages under a security review's eye: sender headers, stray POSTs, test sends
used as a mailer, what an approver approves, and polling after the session is gone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from django.utils import timezone

from saha.conftest import Persona
from saha.core.models import AuditEntry
from saha.messaging import broadcasts, testsend
from saha.messaging.models import Broadcast, BroadcastStatus, MessagingSettings
from saha.messaging.services import messaging_settings
from saha.messaging.settings_services import update_messaging_settings
from saha.messaging.tests.test_broadcast_views import (
    FIELDS,
    SCHEDULE,
    SEND_NOW,
    ready,
    run_test_sends,
    text,
    url,
)
from saha.messaging.views.broadcasts import TEST_SENDS_PER_HOUR
from saha.organizations.roles import Role
from saha.supporters.models import Channel, Person, Segment
from saha.supporters.tests.people_factories import grant, make_person
from saha.testing.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HX = {"HX-Request": "true"}


@pytest.fixture
def messenger(org_a: Any) -> Persona:
    return Persona(MembershipFactory(organization=org_a, role=Role.MESSENGER))


@pytest.fixture
def people(org_a: Any) -> dict[str, Person]:
    """Hala reads Arabic, Rami English; both agreed to emails."""
    return {
        "hala": make_person(
            org_a, email="hala@example.org", given_name="Hala", language="ar", consents=[grant()]
        ),
        "rami": make_person(
            org_a, email="rami@example.org", given_name="Rami", language="en", consents=[grant()]
        ),
    }


def form_of(response: Any) -> Any:
    return response.context["form"]


# --- 1. Sender fields that end up in headers ----------------------------------------------


class TestSenderHeaders:
    DATA = {
        "from_name": "Saha Beirut",
        "from_email": "news@example.org",
        "reply_to": "",
        "sms_sender": "",
        "quiet_start": "21:00",
        "quiet_end": "09:00",
    }
    UNSAFE = [
        "Saha\r\nBcc: everyone@example.org",
        "Saha\nX-Spam: no",
        "Sa\x00ha",
        "Saha\x1b[31m",
        "Saha\x7f",
        "Sa\x85ha",  # a C1 line break
        "Saha\u2028Bcc: x",  # a Unicode line separator
        "\u202eahaS",  # right-to-left override
        "Saha\u2066x\u2069",  # isolates
        "Saha\u200f",  # right-to-left mark
        "Saha\u200e",
    ]

    def post(self, owner: Persona, **fields: str) -> Any:
        return owner.client().post(url("settings", owner.organization), {**self.DATA, **fields})

    @pytest.mark.parametrize("value", UNSAFE)
    def test_control_and_bidi_characters_are_refused_in_the_sender_name(self, owner, value) -> None:
        response = self.post(owner, from_name=value)
        assert response.status_code == 400
        code = "null_characters_not_allowed" if "\x00" in value else "control_character"
        assert form_of(response).has_error("from_name", code=code)
        assert messaging_settings(owner.organization).from_name == ""
        assert not AuditEntry.objects.filter(action="messaging.settings.changed").exists()

    @pytest.mark.parametrize("field", ["reply_to", "from_email", "sms_sender"])
    @pytest.mark.parametrize("value", ["me@example.org\r\nBcc: x@example.org", "SAHA\u202e"])
    def test_the_other_sender_fields_refuse_them_too(self, owner, field, value) -> None:
        response = self.post(owner, **{field: value})
        assert response.status_code == 400
        assert form_of(response).has_error(field)
        row = MessagingSettings.objects.get(organization=owner.organization)
        assert getattr(row, field) == ""

    def test_an_arabic_sender_name_is_welcome(self, owner) -> None:
        assert self.post(owner, from_name="ساحة بيروت").status_code == 302
        assert messaging_settings(owner.organization).from_name == "ساحة بيروت"

    def test_the_service_refuses_them_whoever_calls_it(self, owner) -> None:
        with pytest.raises(ValidationError):
            update_messaging_settings(
                actor=owner.user, organization=owner.organization, from_name="A\r\nBcc: b@c.org"
            )
        assert messaging_settings(owner.organization).from_name == ""


class TestSmsSender:
    post = TestSenderHeaders.post
    DATA = TestSenderHeaders.DATA

    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("SAHA", "SAHA"),
            ("Saha Beirut", "Saha Beirut"),  # 11 characters
            ("Saha2024", "Saha2024"),
            ("+961 3 123 456", "+9613123456"),
            ("00961 3 123 456", "+9613123456"),
            ("03 123 456", "+9613123456"),  # the organization's region
            ("", ""),
        ],
    )
    def test_a_sender_id_or_a_number_stored_in_e164(self, owner, typed, stored) -> None:
        response = self.post(owner, sms_sender=typed)
        assert response.status_code == 302
        assert messaging_settings(owner.organization).sms_sender == stored

    @pytest.mark.parametrize(
        ("typed", "code"),
        [
            ("SahaBeirut12", "bad_sender_id"),  # 12 characters
            ("Saha-Beirut", "bad_sender_id"),
            ("ساحة", "bad_sender_id"),  # not Latin letters
            ("Säha", "bad_sender_id"),
            ("12", "bad_sender_number"),
            ("+1 555", "bad_sender_number"),
        ],
    )
    def test_anything_else_is_a_clear_error(self, owner, typed, code) -> None:
        response = self.post(owner, sms_sender=typed)
        assert response.status_code == 400
        assert form_of(response).has_error("sms_sender", code=code)
        assert 'class="errors"' in text(response)


# --- 2. Only the send page's buttons send ------------------------------------------------------


class TestSendNeedsItsButton:
    def send(self, persona: Persona, broadcast: Broadcast, data: Any = None, **kwargs: Any) -> Any:
        page = url("broadcast_send", persona.organization, pk=broadcast.pk)
        return persona.client().post(page, data if data is not None else {}, **kwargs)

    def assert_still_a_draft(self, broadcast: Broadcast) -> None:
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.DRAFT
        assert not AuditEntry.objects.filter(action="messaging.broadcast.sent").exists()

    @pytest.mark.parametrize(
        "data", [{}, {"send_at": ""}, {"send": ""}, {"action": "now"}, {"action": ""}]
    )
    def test_a_post_without_the_button_sends_nothing(self, messenger, people, data) -> None:
        broadcast = ready(messenger)
        response = self.send(messenger, broadcast, data)
        assert response.status_code == 400
        assert form_of(response).has_error(NON_FIELD_ERRORS, code="no_action")
        assert 'class="errors"' in text(response)
        self.assert_still_a_draft(broadcast)

    def test_a_body_that_is_not_a_form_sends_nothing(self, messenger, people) -> None:
        broadcast = ready(messenger)
        for body, content_type in [
            (b"\x00\xff garbage", "application/octet-stream"),
            (b"{}", "application/json"),
        ]:
            response = self.send(messenger, broadcast, body, content_type=content_type)
            assert response.status_code == 400
        self.assert_still_a_draft(broadcast)

    def test_schedule_needs_a_time(self, messenger, people) -> None:
        broadcast = ready(messenger)
        response = self.send(messenger, broadcast, {"send_at": "", **SCHEDULE})
        assert response.status_code == 400
        assert form_of(response).has_error("send_at", code="required")
        self.assert_still_a_draft(broadcast)

    def test_send_now_with_a_time_typed_asks_which_was_meant(self, messenger, people) -> None:
        broadcast = ready(messenger)
        later = timezone.localtime() + dt.timedelta(days=2)
        response = self.send(
            messenger, broadcast, {"send_at": later.strftime("%Y-%m-%dT%H:%M"), "action": "send"}
        )
        assert response.status_code == 400
        assert form_of(response).has_error("send_at", code="time_with_send")
        self.assert_still_a_draft(broadcast)

    def test_the_page_offers_both_buttons_and_each_does_its_own(self, messenger, people) -> None:
        broadcast = ready(messenger)
        page = text(
            messenger.client().get(url("broadcast_send", messenger.organization, pk=broadcast.pk))
        )
        assert re.search(r'<button type="submit" name="action" value="send"', page)
        assert re.search(r'<button type="submit" name="action" value="schedule"', page)
        assert self.send(messenger, broadcast, SEND_NOW).status_code == 302
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.PREPARING


# --- 3. Test sends -----------------------------------------------------------------------------


class TestTestSends:
    def post(self, persona: Persona, broadcast: Broadcast, address: str, **kwargs: Any) -> Any:
        page = url("broadcast_test", persona.organization, pk=broadcast.pk)
        return persona.client().post(page, {"address": address, "language": "en"}, **kwargs)

    def test_a_cancelled_broadcast_cannot_be_tested(
        self, messenger, people, django_capture_on_commit_callbacks
    ) -> None:
        broadcast = ready(messenger)
        broadcasts.cancel(actor=messenger.user, broadcast=broadcast)
        page = url("broadcast_test", messenger.organization, pk=broadcast.pk)
        assert messenger.client().get(page).status_code == 409
        with django_capture_on_commit_callbacks(execute=True):
            response = self.post(messenger, broadcast, "me@example.org")
        run_test_sends()
        assert response.status_code == 409
        assert "cancelled" in text(response)
        assert mail.outbox == []
        assert not AuditEntry.objects.filter(action="messaging.broadcast.test_sent").exists()
        # and its preview no longer offers one
        preview = url("broadcast_preview", messenger.organization, pk=broadcast.pk, language="en")
        assert page not in text(messenger.client().get(preview))

    def test_cancelled_while_the_form_was_open_is_a_409_not_a_500(
        self, messenger, people, monkeypatch
    ) -> None:
        broadcast = ready(messenger)
        real = testsend.request_test_send

        def cancelled_meanwhile(**kwargs: Any) -> str:
            broadcasts.cancel(actor=messenger.user, broadcast=kwargs["broadcast"])
            return real(**kwargs)

        monkeypatch.setattr(testsend, "request_test_send", cancelled_meanwhile)
        assert self.post(messenger, broadcast, "me@example.org").status_code == 409
        assert not AuditEntry.objects.filter(action="messaging.broadcast.test_sent").exists()

    def test_a_colleagues_address_is_allowed(
        self, messenger, people, django_capture_on_commit_callbacks
    ) -> None:
        broadcast = ready(messenger)
        form = text(
            messenger.client().get(url("broadcast_test", messenger.organization, pk=broadcast.pk))
        )
        assert f'value="{messenger.user.email}"' in form  # their own, filled in
        with django_capture_on_commit_callbacks(execute=True):
            assert self.post(messenger, broadcast, "colleague@example.org").status_code == 302
        run_test_sends()
        assert [m.to for m in mail.outbox] == [["colleague@example.org"]]
        # the audit log says a test went out, not to whom in full
        entry = AuditEntry.objects.get(action="messaging.broadcast.test_sent")
        assert entry.actor == messenger.user
        assert "colleague@example.org" not in str(entry.data)

    def test_at_most_ten_an_hour_per_member(
        self, messenger, admin, people, django_capture_on_commit_callbacks
    ) -> None:
        broadcast = ready(messenger)
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(TEST_SENDS_PER_HOUR):
                assert self.post(messenger, broadcast, f"me+{n}@example.org").status_code == 302
            refused = self.post(messenger, broadcast, "victim@example.org")
        run_test_sends()
        assert refused.status_code == 429
        assert form_of(refused).has_error(NON_FIELD_ERRORS, code="too_many_tests")
        assert 'class="errors"' in text(refused)
        assert len(mail.outbox) == TEST_SENDS_PER_HOUR
        assert "victim@example.org" not in {m.to[0] for m in mail.outbox}
        # another member of the organization has their own allowance
        assert self.post(admin, broadcast, "admin@example.org").status_code == 302

    def test_the_limit_speaks_arabic(self, messenger, people) -> None:
        broadcast = ready(messenger)
        for n in range(TEST_SENDS_PER_HOUR):
            self.post(messenger, broadcast, f"me+{n}@example.org")
        response = self.post(
            messenger, broadcast, "me@example.org", headers={"Accept-Language": "ar"}
        )
        assert response.status_code == 429
        error = str(form_of(response).non_field_errors()[0])
        assert re.search("[\u0600-\u06ff]", error), error

    def test_refused_addresses_do_not_count(self, messenger, people) -> None:
        broadcast = ready(messenger)
        for _ in range(TEST_SENDS_PER_HOUR + 2):
            assert self.post(messenger, broadcast, "not an address").status_code == 400
        assert self.post(messenger, broadcast, "me@example.org").status_code == 302

    def test_the_limit_counts_per_organization(self, messenger, org_b, people) -> None:
        broadcast = ready(messenger)
        for n in range(TEST_SENDS_PER_HOUR):
            self.post(messenger, broadcast, f"me+{n}@example.org")
        assert self.post(messenger, broadcast, "me@example.org").status_code == 429
        theirs = Persona(MembershipFactory(organization=org_b, role=Role.MESSENGER))
        theirs.membership.user = messenger.user
        theirs.membership.save(update_fields=["user"])
        other = ready(theirs)
        assert self.post(theirs, other, "me@example.org").status_code == 302


# --- 4. What an approver approves ----------------------------------------------------------------


class TestApprovalShowsTheAudience:
    @pytest.fixture(autouse=True)
    def _approval_required(self, org_a) -> None:
        sender = messaging_settings(org_a)
        MessagingSettings.objects.filter(pk=sender.pk).update(broadcast_requires_approval=True)

    def test_the_approver_sees_the_audience_as_it_was_asked(self, admin, owner, people) -> None:
        org = admin.organization
        arabic = Segment.objects.create(
            organization=org, name="Arabic readers", definition={"language": ["ar"]}
        )
        broadcast = ready(admin, segment=arabic.pk)
        admin.client().post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL
        # the segment changes after the request: name and criteria
        Segment.objects.filter(pk=arabic.pk).update(name="Everyone", definition={})

        progress = url("broadcast_progress", org, pk=broadcast.pk)
        for page in (
            text(owner.client().get(progress)),
            text(owner.client().get(progress, headers=HX)),
        ):
            panel = page[page.index('id="broadcast-progress"') :]
            audience = re.search(r'class="approval-audience">(.*?)</p>', panel, re.S).group(1)
            assert "<bdi>Arabic readers</bdi>" in audience
            assert '<span class="number">1</span> person' in audience
            assert url("broadcast_approve", org, pk=broadcast.pk) in panel

    def test_everyone_who_agreed_is_counted_and_named(self, admin, owner, people) -> None:
        broadcast = ready(admin)
        admin.client().post(url("broadcast_send", admin.organization, pk=broadcast.pk), SEND_NOW)
        page = text(
            owner.client().get(url("broadcast_progress", owner.organization, pk=broadcast.pk))
        )
        audience = re.search(r'class="approval-audience">(.*?)</p>', page, re.S).group(1)
        assert (
            "Everyone who agreed" in audience and '<span class="number">2</span> people' in audience
        )

    def test_nothing_of_the_kind_once_it_is_on_its_way(self, messenger, people) -> None:
        MessagingSettings.objects.update(broadcast_requires_approval=False)
        broadcast = ready(messenger)
        messenger.client().post(
            url("broadcast_send", messenger.organization, pk=broadcast.pk), SEND_NOW
        )
        page = text(
            messenger.client().get(
                url("broadcast_progress", messenger.organization, pk=broadcast.pk)
            )
        )
        assert "approval-audience" not in page


# --- 5. Polling after the session is gone ---------------------------------------------------------


class TestPollingWhenNoLongerAllowed:
    def sending(self, persona: Persona) -> Broadcast:
        broadcast = ready(persona)
        persona.client().post(
            url("broadcast_send", persona.organization, pk=broadcast.pk), SEND_NOW
        )
        return broadcast

    def test_signed_out_the_page_reloads_instead_of_swapping_in_the_sign_in_form(
        self, messenger, people, client
    ) -> None:
        broadcast = self.sending(messenger)
        progress = url("broadcast_progress", messenger.organization, pk=broadcast.pk)
        response = client.get(progress, headers=HX)  # no session
        assert response.status_code == 200
        assert response["HX-Refresh"] == "true"
        assert response.content == b""
        # without htmx, the usual redirect to sign in, back to the page after
        response = client.get(progress)
        assert response.status_code == 302 and "next=" in response["Location"]

    def test_when_two_factor_becomes_required_the_page_goes_to_set_it_up(
        self, messenger, people
    ) -> None:
        broadcast = self.sending(messenger)
        client = messenger.client()
        messenger.organization.require_mfa = True
        messenger.organization.save(update_fields=["require_mfa"])
        response = client.get(
            url("broadcast_progress", messenger.organization, pk=broadcast.pk), headers=HX
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("mfa_index")
        assert response.content == b""

    def test_a_member_removed_meanwhile_sees_why_on_a_full_page(self, messenger, people) -> None:
        broadcast = self.sending(messenger)
        client = messenger.client()
        messenger.membership.role = Role.VIEWER
        messenger.membership.save(update_fields=["role"])
        progress = url("broadcast_progress", messenger.organization, pk=broadcast.pk)
        response = client.get(progress, headers=HX)
        assert (response.status_code, response["HX-Refresh"]) == (200, "true")
        messenger.membership.delete()
        response = client.get(progress, headers=HX)
        assert (response.status_code, response["HX-Refresh"]) == (200, "true")

    def test_the_audience_count_of_the_form_does_the_same(self, messenger, client) -> None:
        count = url("audience_count", messenger.organization)
        response = client.get(count, {"channel": Channel.EMAIL, "purpose": "updates"}, headers=HX)
        assert response["HX-Refresh"] == "true"

    def test_allowed_the_fragment_is_unchanged(self, messenger, people) -> None:
        broadcast = self.sending(messenger)
        response = messenger.client().get(
            url("broadcast_progress", messenger.organization, pk=broadcast.pk), headers=HX
        )
        assert response.status_code == 200
        assert "HX-Refresh" not in response and "HX-Redirect" not in response
        assert text(response).startswith('<section id="broadcast-progress"')


# --- 6. Edits are audited once, by the services ---------------------------------------------------


def test_the_views_do_not_log_edits_themselves(messenger, people) -> None:
    """The services write "messaging.broadcast.edited"; the pages add no entry of their own."""
    broadcast = ready(messenger)  # created, then two versions written
    client = messenger.client()
    org = messenger.organization
    client.post(url("broadcast_edit", org, pk=broadcast.pk), {**FIELDS, "name": "Renamed"})
    client.post(url("version_delete", org, pk=broadcast.pk, language="ar"))
    actions = list(
        AuditEntry.objects.filter(target_id=str(broadcast.pk)).values_list("action", flat=True)
    )
    assert actions.count("messaging.broadcast.created") == 1
    assert actions.count("messaging.broadcast.edited") <= 4  # at most one per service call
