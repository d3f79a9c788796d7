"""Broadcast pages: compose, write each language, preview, test, send, approve, watch, stop.

The worker's part (preparing the recipients, draining the outbox) runs in the
test itself, by the same functions the tasks call.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from saha.conftest import Persona
from saha.core.models import AuditEntry
from saha.messaging import broadcasts, outbox
from saha.messaging.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    MessagingSettings,
)
from saha.messaging.services import messaging_settings
from saha.organizations.roles import Role
from saha.supporters.models import Channel, Person, Segment
from saha.supporters.tests.people_factories import grant, make_person
from saha.testing.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Everything the list does, sign-in and session bookkeeping included.
LIST_QUERIES = 15
ARABIC_BODY = "مرحبا {{ given_name | صديقي }}،\n\nندعوكم إلى الاجتماع العام يوم السبت."
# What the broadcast form posts: an email to everyone who agreed, in English first.
FIELDS = {
    "name": "General assembly",
    "channel": "email",
    "segment": "",
    "purpose": "updates",
    "fallback_language": "en",
}
# What the send page posts, by its buttons.
SEND_NOW = {"send_at": "", "action": "send"}
SCHEDULE = {"action": "schedule"}
ENGLISH_BODY = (
    "Hello {{ given_name | friend }},\n\nJoin us at the **general assembly** on Saturday."
)


@pytest.fixture
def messenger(org_a: Any) -> Persona:
    return Persona(MembershipFactory(organization=org_a, role=Role.MESSENGER))


@pytest.fixture
def viewer(org_a: Any) -> Persona:
    return Persona(MembershipFactory(organization=org_a, role=Role.VIEWER))


@pytest.fixture
def people(org_a: Any) -> dict[str, Person]:
    """Hala reads Arabic, Rami English, both agreed to emails; Nour never agreed; Sami takes SMS."""
    return {
        "hala": make_person(
            org_a, email="hala@example.org", given_name="Hala", language="ar", consents=[grant()]
        ),
        "rami": make_person(
            org_a, email="rami@example.org", given_name="Rami", language="en", consents=[grant()]
        ),
        "nour": make_person(org_a, email="nour@example.org", given_name="Nour", language="fr"),
        "sami": make_person(
            org_a,
            email="sami@example.org",
            phone="+961 3 123 456",
            given_name="Sami",
            language="ar",
            consents=[grant(Channel.SMS)],
        ),
    }


def url(name: str, organization: Any, **kwargs: Any) -> str:
    return reverse(f"messaging_{name}", kwargs={"slug": organization.slug, **kwargs})


def create(persona: Persona, **fields: Any) -> Broadcast:
    """A broadcast made through the page, as an organizer would."""
    response = persona.client().post(
        url("broadcast_new", persona.organization), {**FIELDS, **fields}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Broadcast.objects.for_org(persona.organization).latest("pk")


def write(
    persona: Persona, broadcast: Broadcast, language: str, body: str, subject: str = ""
) -> Any:
    return persona.client().post(
        url("version_edit", broadcast.organization, pk=broadcast.pk, language=language),
        {"subject": subject, "body": body},
    )


def ready(persona: Persona, **fields: Any) -> Broadcast:
    """A draft with its Arabic and English versions written."""
    broadcast = create(persona, **fields)
    subject = "" if broadcast.channel == Channel.SMS else "Assembly"
    assert write(persona, broadcast, "en", ENGLISH_BODY, subject).status_code == 302
    assert write(persona, broadcast, "ar", ARABIC_BODY, subject and "الاجتماع").status_code == 302
    return broadcast


def run_worker(broadcast: Broadcast) -> None:
    broadcasts.prepare(broadcast.pk)
    outbox.drain(budget_seconds=5)


def run_test_sends() -> None:
    """What a worker does with the queued test sends (tests queue tasks in the database)."""
    from django_tasks_db.models import DBTaskResult

    from saha.messaging.tasks import send_test_task
    from saha.messaging.testsend import send_test

    for result in DBTaskResult.objects.ready().filter(task_path=send_test_task.module_path):
        send_test(*result.args_kwargs["args"])


def text(response: Any) -> str:
    return response.content.decode()


def page_of(persona: Persona, name: str, query: dict[str, str] | None = None, **kwargs: Any) -> str:
    """The HTML of one of the organization's pages, as `persona` sees it."""
    return text(persona.client().get(url(name, persona.organization, **kwargs), query or {}))


# --- Who may see what -------------------------------------------------------------------


class TestAccess:
    PAGES = [
        ("broadcast_list", False),
        ("broadcast_new", False),
        ("audience_count", False),
        ("broadcast_detail", True),
        ("broadcast_edit", True),
        ("broadcast_test", True),
        ("broadcast_send", True),
        ("broadcast_cancel", True),
    ]

    def test_senders_see_every_page_and_others_get_403(self, request, messenger) -> None:
        broadcast = ready(messenger)
        for name in ("owner", "admin", "messenger", "organizer", "viewer", "checkin_staff"):
            client = request.getfixturevalue(name).client()
            allowed = name in {"owner", "admin", "messenger"}
            for page, with_pk in self.PAGES:
                kwargs = {"pk": broadcast.pk} if with_pk else {}
                response = client.get(url(page, broadcast.organization, **kwargs))
                assert response.status_code == (200 if allowed else 403), (name, page)
            for page in ("version_edit", "broadcast_preview"):
                response = client.get(
                    url(page, broadcast.organization, pk=broadcast.pk, language="ar")
                )
                assert response.status_code == (200 if allowed else 403), (name, page)

    def test_a_viewer_cannot_send(self, viewer, messenger, people) -> None:
        broadcast = ready(messenger)
        response = viewer.client().post(
            url("broadcast_send", viewer.organization, pk=broadcast.pk), SEND_NOW
        )
        assert response.status_code == 403
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.DRAFT

    def test_only_those_who_may_send_see_the_messages_tab(self, messenger, organizer) -> None:
        tab = f'href="{url("broadcast_list", messenger.organization)}"'
        dashboard = reverse("organizations:dashboard", args=[messenger.organization.slug])
        assert tab in text(messenger.client().get(dashboard))
        assert tab not in text(organizer.client().get(dashboard))

    def test_the_messaging_settings_need_the_organization_settings_permission(
        self, owner, admin, messenger
    ) -> None:
        page = url("settings", owner.organization)
        assert owner.client().get(page).status_code == 200
        assert admin.client().get(page).status_code == 200
        assert messenger.client().get(page).status_code == 403
        assert (
            messenger.client().post(url("regenerate_webhook_key", owner.organization)).status_code
            == 403
        )

    def test_a_member_of_another_organization_gets_404(self, outsider, messenger) -> None:
        broadcast = ready(messenger)
        client = outsider.client()
        org = broadcast.organization
        for page, with_pk in [
            *self.PAGES,
            ("broadcast_progress", True),
            ("broadcast_approve", True),
        ]:
            kwargs = {"pk": broadcast.pk} if with_pk else {}
            for method in (client.get, client.post):
                assert method(url(page, org, **kwargs)).status_code == 404, page
        # ... and through their own organization's address, our broadcast does not exist
        theirs = outsider.organization
        assert client.get(url("broadcast_detail", theirs, pk=broadcast.pk)).status_code == 404
        for page in ("broadcast_send", "broadcast_cancel"):
            response = client.post(url(page, theirs, pk=broadcast.pk), {"confirm": "on"})
            assert response.status_code == 404
        response = client.post(
            url("version_edit", theirs, pk=broadcast.pk, language="en"), {"body": "Hijacked"}
        )
        assert response.status_code == 404
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.DRAFT
        assert broadcast.versions.get(language="en").body == ENGLISH_BODY


# --- Composing --------------------------------------------------------------------------


class TestCompose:
    def test_the_new_form_counts_the_audience_of_the_chosen_channel(
        self, messenger, people
    ) -> None:
        client = messenger.client()
        page = text(client.get(url("broadcast_new", messenger.organization)))
        assert 'value="en" selected' in page  # the organization's language, preselected
        assert re.search(r'class="number">2</span> people would receive it', page)
        fragment = text(
            client.get(
                url("audience_count", messenger.organization),
                {"channel": "sms", "segment": "", "purpose": "updates"},
            )
        )
        assert re.search(r'class="number">1</span> person would receive it', fragment)
        assert "Arabic" in fragment

    def test_a_segment_narrows_the_audience(self, messenger, people) -> None:
        org = messenger.organization
        arabic = Segment.objects.create(
            organization=org, name="Arabic", definition={"language": ["ar"]}
        )
        broadcast = create(messenger, segment=arabic.pk)
        assert broadcast.segment == arabic
        page = text(messenger.client().get(url("broadcast_detail", org, pk=broadcast.pk)))
        assert re.search(r'class="number">1</span> person right now', page)
        assert broadcasts.audience(broadcast).get() == people["hala"]

    def test_a_segment_of_another_organization_is_refused(self, messenger, outsider) -> None:
        theirs = Segment.objects.create(organization=outsider.organization, name="B", definition={})
        response = messenger.client().post(
            url("broadcast_new", messenger.organization), {**FIELDS, "segment": theirs.pk}
        )
        assert response.status_code == 400
        assert not Broadcast.objects.exists()

    @pytest.mark.parametrize(
        "fields",
        [
            {"name": ""},
            {"channel": "pigeon"},
            {"purpose": "nonsense"},
            {"fallback_language": "de"},
        ],
    )
    def test_bad_settings_show_errors(self, messenger, fields) -> None:
        response = messenger.client().post(
            url("broadcast_new", messenger.organization), {**FIELDS, **fields}
        )
        assert response.status_code == 400
        assert 'class="errors"' in text(response)
        assert not Broadcast.objects.exists()

    def test_without_javascript_the_count_button_counts_without_saving(
        self, messenger, people
    ) -> None:
        response = messenger.client().post(
            url("broadcast_new", messenger.organization),
            {**FIELDS, "name": "", "channel": "sms", "count": ""},
        )
        assert response.status_code == 200
        assert re.search(r'class="number">1</span> person would receive it', text(response))
        assert not Broadcast.objects.exists()

    def test_editing_the_settings_of_a_draft(self, messenger) -> None:
        broadcast = create(messenger)
        response = messenger.client().post(
            url("broadcast_edit", messenger.organization, pk=broadcast.pk),
            {
                **FIELDS,
                "name": "Renamed",
                "channel": "sms",
                "fallback_language": "ar",
                "urgent": "on",
            },
        )
        assert response.status_code == 302
        broadcast.refresh_from_db()
        changed = (broadcast.name, broadcast.channel, broadcast.fallback_language, broadcast.urgent)
        assert changed == ("Renamed", "sms", "ar", True)


class TestVersions:
    def test_the_arabic_editor_runs_right_to_left_and_lists_the_merge_fields(
        self, messenger
    ) -> None:
        broadcast = create(messenger)
        page = page_of(messenger, "version_edit", pk=broadcast.pk, language="ar")
        assert re.search(r'<textarea name="body"[^>]* dir="rtl"', page)
        assert "{{ given_name }}" in page
        assert "{{ given_name | friend }}" in page

    def test_unknown_merge_fields_are_refused_on_their_field(self, messenger) -> None:
        broadcast = create(messenger)
        response = write(messenger, broadcast, "en", "Hi {{ first_name }}", "Hi {{ nickname }}")
        assert response.status_code == 400
        page = text(response)
        assert "{{ first_name }}" in page and "{{ nickname }}" in page
        assert "Unknown merge field" in page
        assert not broadcast.versions.exists()

    @pytest.mark.parametrize(
        ("subject", "body"), [("Assembly", ""), ("Assembly", "   \n  "), ("", "Hello")]
    )
    def test_an_email_needs_a_subject_and_a_body(self, messenger, subject, body) -> None:
        broadcast = create(messenger)
        response = write(messenger, broadcast, "en", body, subject)
        assert response.status_code == 400
        assert 'class="errors"' in text(response)
        assert not broadcast.versions.exists()

    def test_an_sms_has_no_subject_and_shows_its_parts_once_saved(self, messenger) -> None:
        broadcast = create(messenger, channel="sms")
        long_arabic = "أ" * 100  # UCS-2: 67 characters a part
        response = write(messenger, broadcast, "ar", long_arabic)
        assert response.status_code == 302
        page = text(messenger.client().get(response["Location"]))
        assert 'name="subject"' not in page
        assert "Sent as 2 text messages" in page

    def test_a_language_that_is_not_offered_is_not_found(self, messenger) -> None:
        broadcast = create(messenger)
        for name in ("version_edit", "broadcast_preview"):
            page = url(name, messenger.organization, pk=broadcast.pk, language="de")
            assert messenger.client().get(page).status_code == 404

    def test_deleting_a_version(self, messenger) -> None:
        broadcast = ready(messenger)
        response = messenger.client().post(
            url("version_delete", messenger.organization, pk=broadcast.pk, language="ar")
        )
        assert response.status_code == 302
        assert list(broadcast.versions.values_list("language", flat=True)) == ["en"]


class TestPreview:
    def test_each_language_is_rendered_by_the_server_in_its_direction(self, messenger) -> None:
        broadcast = ready(messenger)
        arabic = page_of(messenger, "broadcast_preview", pk=broadcast.pk, language="ar")
        english = page_of(messenger, "broadcast_preview", pk=broadcast.pk, language="en")
        # the HTML part is in a sandboxed frame, without scripts
        assert re.search(r'<iframe[^>]*sandbox=""[^>]*srcdoc="', arabic)
        assert "dir=&quot;rtl&quot;" in arabic and "dir=&quot;rtl&quot;" not in english
        assert re.search(r'<pre[^>]*lang="ar" dir="rtl"', arabic)
        assert re.search(r'<pre[^>]*lang="en" dir="ltr"', english)
        # the merge fields are filled with a sample person
        assert (
            "Hello Rania," in english
            and "{{" not in english.split("<main")[1].split("Plain-text")[0]
        )
        assert "<strong>general assembly</strong>" in english.replace("&lt;", "<").replace(
            "&gt;", ">"
        )

    def test_a_preview_for_someone_without_a_name_shows_the_fallback_words(self, messenger) -> None:
        broadcast = ready(messenger)
        query = {"sample": "empty"}
        page = page_of(messenger, "broadcast_preview", query, pk=broadcast.pk, language="en")
        assert "Hello friend," in page

    def test_an_unwritten_language_says_who_gets_the_fallback(self, messenger) -> None:
        broadcast = ready(messenger)
        response = messenger.client().get(
            url("broadcast_preview", messenger.organization, pk=broadcast.pk, language="fr")
        )
        assert response.status_code == 200
        assert "receive the English version" in text(response)

    def test_an_sms_preview_counts_its_parts(self, messenger) -> None:
        broadcast = ready(messenger, channel="sms")
        page = page_of(messenger, "broadcast_preview", pk=broadcast.pk, language="ar")
        assert "<iframe" not in page
        assert "Sent as 1 text message." in page


class TestTestSend:
    def test_the_test_goes_to_the_address_given_and_nobody_else(
        self, messenger, people, django_capture_on_commit_callbacks
    ) -> None:
        broadcast = ready(messenger)
        client = messenger.client()
        page = url("broadcast_test", messenger.organization, pk=broadcast.pk)
        assert f'value="{messenger.user.email}"' in text(client.get(page))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                page, {"address": "me@example.org", "language": "ar"}, follow=True
            )
        run_test_sends()
        assert "Test sent to me@example.org." in text(response)
        assert [m.to for m in mail.outbox] == [["me@example.org"]]
        assert "الاجتماع" in mail.outbox[0].subject
        assert not Delivery.objects.exists()

    @pytest.mark.parametrize("address", ["not an address", "", "me@"])
    def test_a_bad_address_is_an_error_on_the_form(
        self, messenger, address, django_capture_on_commit_callbacks
    ) -> None:
        broadcast = ready(messenger)
        with django_capture_on_commit_callbacks(execute=True):
            response = messenger.client().post(
                url("broadcast_test", messenger.organization, pk=broadcast.pk),
                {"address": address, "language": "en"},
            )
        run_test_sends()
        assert response.status_code == 400
        assert 'class="errors"' in text(response)
        assert mail.outbox == []

    def test_a_language_without_a_version_cannot_be_tested(self, messenger) -> None:
        broadcast = ready(messenger)
        response = messenger.client().post(
            url("broadcast_test", messenger.organization, pk=broadcast.pk),
            {"address": "me@example.org", "language": "fr"},
        )
        assert response.status_code == 400

    def test_an_sms_test_goes_to_a_phone_number(
        self, messenger, settings, memory_provider_sent, django_capture_on_commit_callbacks
    ) -> None:
        settings.SMS_BACKEND = "memory"
        broadcast = ready(messenger, channel="sms")
        client = messenger.client()
        page = url("broadcast_test", messenger.organization, pk=broadcast.pk)
        response = client.post(page, {"address": "12", "language": "ar"})
        assert response.status_code == 400
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(page, {"address": "03 123 456", "language": "ar"}, follow=True)
        run_test_sends()
        assert "Test sent to +9613123456." in text(response)
        assert [(s.channel, s.to) for s in memory_provider_sent] == [("sms", "+9613123456")]


# --- Sending ----------------------------------------------------------------------------


class TestSend:
    def test_send_then_watch_it_finish(self, messenger, people) -> None:
        broadcast = ready(messenger)
        client = messenger.client()
        org = messenger.organization
        summary = text(client.get(url("broadcast_send", org, pk=broadcast.pk)))
        assert re.search(r'class="number">2</span> people', summary)
        assert 'value="send"' in summary and "Ask for approval" not in summary

        response = client.post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
        assert response["Location"] == url("broadcast_progress", org, pk=broadcast.pk)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.PREPARING
        waiting = text(client.get(response["Location"]))
        assert 'hx-trigger="every 2s"' in waiting

        run_worker(broadcast)

        page = text(client.get(url("broadcast_progress", org, pk=broadcast.pk)))
        assert "status-sent" in page and 'value="100"' in page
        assert "hx-get" not in page  # finished: the page stops asking
        assert sorted(m.to[0] for m in mail.outbox) == ["hala@example.org", "rami@example.org"]
        to_hala = next(m for m in mail.outbox if m.to == ["hala@example.org"])
        assert to_hala.subject == "الاجتماع" and "مرحبا Hala" in to_hala.body

    def test_the_progress_fragment_answers_htmx_alone(self, messenger, people) -> None:
        broadcast = ready(messenger)
        client = messenger.client()
        org = messenger.organization
        client.post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
        broadcasts.prepare(broadcast.pk)
        fragment = text(
            client.get(
                url("broadcast_progress", org, pk=broadcast.pk), headers={"HX-Request": "true"}
            )
        )
        assert fragment.startswith('<section id="broadcast-progress"')
        assert "<html" not in fragment
        assert 'hx-trigger="every 2s"' in fragment
        assert "status-sending" in fragment

    def test_a_double_submit_sends_once_and_lands_on_progress_both_times(
        self, messenger, people
    ) -> None:
        broadcast = ready(messenger)
        client = messenger.client()
        org = messenger.organization
        progress_url = url("broadcast_progress", org, pk=broadcast.pk)
        for _ in range(2):
            response = client.post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
            assert response.status_code == 302
            assert response["Location"] == progress_url
        run_worker(broadcast)
        broadcasts.prepare(broadcast.pk)  # a task run twice
        assert Delivery.objects.filter(message=broadcast.message).count() == 2
        assert len(mail.outbox) == 2
        assert AuditEntry.objects.filter(action="messaging.broadcast.sent").count() == 1
        assert client.get(progress_url).status_code == 200

    def test_a_broadcast_with_problems_cannot_be_sent(self, messenger, people) -> None:
        broadcast = create(messenger, fallback_language="ar")
        write(messenger, broadcast, "en", ENGLISH_BODY, "Assembly")
        client = messenger.client()
        page = url("broadcast_send", messenger.organization, pk=broadcast.pk)
        summary = text(client.get(page))
        assert "Write the version in the fallback language first." in summary
        assert 'name="action"' not in summary
        response = client.post(page, SEND_NOW)
        assert response.status_code == 400
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.DRAFT

    def test_a_time_in_the_past_is_refused(self, messenger, people) -> None:
        broadcast = ready(messenger)
        past = timezone.localtime() - dt.timedelta(hours=1)
        response = messenger.client().post(
            url("broadcast_send", messenger.organization, pk=broadcast.pk),
            {"send_at": past.strftime("%Y-%m-%dT%H:%M"), **SCHEDULE},
        )
        assert response.status_code == 400
        assert "This time has passed" in text(response)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.DRAFT

    @pytest.mark.parametrize("value", ["tomorrow", "2030-13-45T99:00"])
    def test_a_time_that_is_not_one_is_refused(self, messenger, people, value) -> None:
        broadcast = ready(messenger)
        response = messenger.client().post(
            url("broadcast_send", messenger.organization, pk=broadcast.pk),
            {"send_at": value, **SCHEDULE},
        )
        assert response.status_code == 400

    def test_send_at_is_read_in_the_organizations_time_zone(self, messenger, people) -> None:
        broadcast = ready(messenger)  # organization A is in Asia/Beirut: UTC+3 in summer
        year = timezone.now().year + 1
        response = messenger.client().post(
            url("broadcast_send", messenger.organization, pk=broadcast.pk),
            {"send_at": f"{year}-07-01T09:30", **SCHEDULE},
        )
        assert response.status_code == 302
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.SCHEDULED
        assert broadcast.scheduled_for == dt.datetime(year, 7, 1, 6, 30, tzinfo=dt.UTC)
        page = text(messenger.client().get(response["Location"]))
        assert "9:30" in page and "Asia/Beirut" in page
        # and unscheduling makes it a draft again
        messenger.client().post(url("broadcast_return", messenger.organization, pk=broadcast.pk))
        broadcast.refresh_from_db()
        assert (broadcast.status, broadcast.scheduled_for) == (BroadcastStatus.DRAFT, None)

    def test_a_sent_broadcast_can_no_longer_be_edited(self, messenger, people) -> None:
        broadcast = ready(messenger)
        client = messenger.client()
        org = messenger.organization
        client.post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
        progress_url = url("broadcast_progress", org, pk=broadcast.pk)
        assert client.get(url("broadcast_edit", org, pk=broadcast.pk))["Location"] == progress_url
        assert client.get(url("broadcast_detail", org, pk=broadcast.pk))["Location"] == progress_url
        response = write(messenger, broadcast, "en", "Changed", "Changed")
        assert response.status_code == 409
        assert broadcast.versions.get(language="en").body == ENGLISH_BODY


class TestApproval:
    @pytest.fixture(autouse=True)
    def _approval_required(self, org_a) -> None:
        sender = messaging_settings(org_a)
        MessagingSettings.objects.filter(pk=sender.pk).update(broadcast_requires_approval=True)

    def test_another_admin_approves(self, admin, owner, people) -> None:
        broadcast = ready(admin)
        org = admin.organization
        page = text(admin.client().get(url("broadcast_send", org, pk=broadcast.pk)))
        assert "Ask for approval" in page
        admin.client().post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL

        # the one who asked sees no Approve button, and cannot approve by hand
        approve = url("broadcast_approve", org, pk=broadcast.pk)
        assert approve not in text(
            admin.client().get(url("broadcast_progress", org, pk=broadcast.pk))
        )
        response = admin.client().post(approve)
        assert response.status_code == 403
        assert "Another admin must approve" in text(response)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL

        # another admin sees the button and approves; pressing twice does nothing more
        waiting = text(owner.client().get(url("broadcast_progress", org, pk=broadcast.pk)))
        assert approve in waiting and 'hx-trigger="every 30s"' in waiting  # seldom changes
        for _ in range(2):
            response = owner.client().post(approve)
            assert response.status_code == 302
        broadcast.refresh_from_db()
        assert (broadcast.status, broadcast.approved_by) == (BroadcastStatus.PREPARING, owner.user)
        assert AuditEntry.objects.filter(action="messaging.broadcast.approved").count() == 1
        run_worker(broadcast)
        assert len(mail.outbox) == 2

    def test_a_messenger_cannot_approve(self, messenger, admin, people) -> None:
        broadcast = ready(admin)
        admin.client().post(url("broadcast_send", admin.organization, pk=broadcast.pk), SEND_NOW)
        response = messenger.client().post(
            url("broadcast_approve", admin.organization, pk=broadcast.pk)
        )
        assert response.status_code == 403
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL

    def test_returned_to_draft_it_can_be_edited_again(self, messenger, owner, people) -> None:
        broadcast = ready(messenger)
        org = messenger.organization
        messenger.client().post(url("broadcast_send", org, pk=broadcast.pk), SEND_NOW)
        response = owner.client().post(url("broadcast_return", org, pk=broadcast.pk))
        assert response["Location"] == url("broadcast_detail", org, pk=broadcast.pk)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.DRAFT
        assert write(messenger, broadcast, "en", "New words", "New").status_code == 302


class TestControls:
    def sending(self, persona: Persona) -> Broadcast:
        broadcast = ready(persona)
        persona.client().post(
            url("broadcast_send", persona.organization, pk=broadcast.pk), SEND_NOW
        )
        broadcasts.prepare(broadcast.pk)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.SENDING
        return broadcast

    def test_pause_and_resume(self, messenger, people) -> None:
        broadcast = self.sending(messenger)
        client = messenger.client()
        org = messenger.organization
        client.post(url("broadcast_pause", org, pk=broadcast.pk))
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.PAUSED
        outbox.drain(budget_seconds=5)
        assert mail.outbox == []
        page = text(client.get(url("broadcast_progress", org, pk=broadcast.pk)))
        assert url("broadcast_resume", org, pk=broadcast.pk) in page
        client.post(url("broadcast_resume", org, pk=broadcast.pk))
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.SENDING
        outbox.drain(budget_seconds=5)
        assert len(mail.outbox) == 2

    def test_cancel_asks_for_a_tick_first(self, messenger, people) -> None:
        broadcast = self.sending(messenger)
        client = messenger.client()
        page = url("broadcast_cancel", messenger.organization, pk=broadcast.pk)
        assert 'name="confirm"' in text(client.get(page))
        assert client.post(page).status_code == 400
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.SENDING
        response = client.post(page, {"confirm": "on"}, follow=True)
        broadcast.refresh_from_db()
        assert broadcast.status == BroadcastStatus.CANCELLED
        assert "hx-get" not in text(response) and "status-cancelled" in text(response)
        assert set(
            Delivery.objects.filter(message=broadcast.message).values_list("status", flat=True)
        ) == {DeliveryStatus.CANCELLED}
        outbox.drain(budget_seconds=5)
        assert mail.outbox == []
        # a cancelled broadcast has nothing left to cancel
        assert client.get(page)["Location"].endswith("/progress/")


# --- The list ---------------------------------------------------------------------------


class TestList:
    def test_newest_first_a_page_at_a_time(self, messenger, django_assert_max_num_queries) -> None:
        org = messenger.organization
        segment = Segment.objects.create(organization=org, name="Volunteers", definition={})
        for n in range(30):
            broadcasts.create_broadcast(
                actor=messenger.user,
                organization=org,
                data=broadcasts.BroadcastData(
                    name=f"Broadcast {n}", channel="email", segment=segment, fallback_language="en"
                ),
            )
        client = messenger.client()
        with django_assert_max_num_queries(LIST_QUERIES) as captured:
            page = text(client.get(url("broadcast_list", org)))
        # one query for the page of broadcasts with their segments, whatever their number
        assert len([q for q in captured.captured_queries if "messaging_" in q["sql"]]) == 1
        names = re.findall(r"<bdi>(Broadcast \d+)</bdi>", page)
        assert names[:2] == ["Broadcast 29", "Broadcast 28"] and len(names) == 25
        assert "Volunteers" in page and "Draft" in page
        older = re.search(r'href="\?after=(\d+)"', page).group(1)
        rest = re.findall(
            r"<bdi>(Broadcast \d+)</bdi>",
            text(client.get(url("broadcast_list", org), {"after": older})),
        )
        assert rest == [f"Broadcast {n}" for n in range(4, -1, -1)]

    def test_nonsense_in_the_query_is_ignored(self, messenger) -> None:
        response = messenger.client().get(
            url("broadcast_list", messenger.organization), {"after": "²"}
        )
        assert response.status_code == 200


# --- Settings ---------------------------------------------------------------------------


class TestSettings:
    DATA = {
        "from_name": "Saha Beirut",
        "from_email": "news@example.org",
        "reply_to": "",
        "sms_sender": "SAHA",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "broadcast_requires_approval": "on",
    }

    def test_saving_is_audited_with_what_changed(self, owner) -> None:
        client = owner.client()
        page = url("settings", owner.organization)
        assert "Asia/Beirut" in text(client.get(page))
        response = client.post(page, self.DATA)
        assert response.status_code == 302
        row = MessagingSettings.objects.get(organization=owner.organization)
        assert (row.from_email, row.quiet_start, row.broadcast_requires_approval) == (
            "news@example.org",
            dt.time(22, 0),
            True,
        )
        entry = AuditEntry.objects.get(action="messaging.settings.changed")
        assert entry.actor == owner.user
        assert entry.data["changed"] == {
            "broadcast_requires_approval": True,
            "from_email": "news@example.org",
            "from_name": "Saha Beirut",
            "quiet_end": "08:00",
            "quiet_start": "22:00",
            "sms_sender": "SAHA",
        }
        # saving the same again changes nothing, and logs nothing
        client.post(page, self.DATA)
        assert AuditEntry.objects.filter(action="messaging.settings.changed").count() == 1

    @pytest.mark.parametrize(
        "fields",
        [{"from_email": "not-an-address"}, {"quiet_start": "25:00"}, {"sms_sender": "x" * 21}],
    )
    def test_bad_values_are_errors(self, owner, fields) -> None:
        response = owner.client().post(url("settings", owner.organization), {**self.DATA, **fields})
        assert response.status_code == 400
        assert not AuditEntry.objects.filter(action="messaging.settings.changed").exists()

    def test_the_webhook_addresses_and_a_new_key(self, owner, settings) -> None:
        client = owner.client()
        page = url("settings", owner.organization)
        key = messaging_settings(owner.organization).webhook_key
        base = f"{settings.SAHA_BASE_URL}/hooks/org-a/{key}/"
        shown = text(client.get(page))
        for suffix in ("sms/", "email-events/", "unsubscribe-email/"):
            assert base + suffix in shown
        response = client.post(url("regenerate_webhook_key", owner.organization))
        assert response.status_code == 302
        new_key = MessagingSettings.objects.get(organization=owner.organization).webhook_key
        assert new_key and new_key != key
        shown = text(client.get(page))
        assert key not in shown and new_key in shown
        entry = AuditEntry.objects.get(action="messaging.webhook_key.regenerated")
        assert new_key not in str(entry.data) and key not in str(entry.data)
        assert client.get(url("regenerate_webhook_key", owner.organization)).status_code == 405
