"""The organizer's statement pages: writing in each language's direction, bad input as
form errors, the date line, previews, scheduling, publishing, withdrawing; who may do
what, and nothing of one organization for another's members."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from saha.core.models import AuditEntry
from saha.organizations.roles import Role
from saha.statements import services
from saha.statements.models import Statement, StatementStatus
from saha.statements.tests.helpers import make_statement
from saha.statements.views import cosigning, manage
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BEIRUT = zoneinfo.ZoneInfo("Asia/Beirut")


def url(name: str, statement: Statement | None = None, *extra: Any, slug: str = "org-a") -> str:
    args: list[Any] = [slug]
    if statement is not None:
        args.append(statement.pk)
    return reverse(f"statements:{name}", args=[*args, *extra])


def version_data(**overrides: str) -> dict[str, str]:
    data = {
        "title": "الشاطئ للجميع",
        "summary": "الشاطئ ملك عام.",
        "body": "نطالب بإبقاء الشاطئ مفتوحًا.",
        "issuing_body": "اللجنة التنفيذية",
        "place": "بيروت",
        "dated": "2026-11-24",
    }
    data.update(overrides)
    return data


def field_tag(page: str, name: str) -> str:
    found = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', page)
    assert found is not None, name
    return found.group()


class TestWriting:
    def test_an_arabic_statement_is_written_right_to_left_and_saved_as_a_draft(
        self, organizer: Any
    ) -> None:
        client = organizer.client()
        picker = client.get(url("manage_new")).content.decode()
        assert 'href="?language=ar"' in picker and 'href="?language=fr"' in picker
        page = client.get(url("manage_new") + "?language=ar").content.decode()
        for name in ("title", "summary", "body", "issuing_body", "place"):
            assert 'lang="ar"' in field_tag(page, name) and 'dir="rtl"' in field_tag(page, name)
        response = client.post(url("manage_new") + "?language=ar", version_data())
        statement = Statement.objects.get()
        assert response.status_code == 302 and response.url == url("manage_statement", statement)
        assert statement.status == StatementStatus.DRAFT and statement.original_language == "ar"
        assert statement.dated == dt.date(2026, 11, 24)
        assert statement.slug == "statement-2026-11-24"  # no Latin letters in the title
        assert statement.versions.get().place == "بيروت"
        assert AuditEntry.objects.filter(action="statements.statement.created").count() == 1

    def test_an_english_version_is_left_to_right_and_added(
        self, org_a: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a, languages=("ar",))
        client = organizer.client()
        response = client.get(url("manage_version_add", statement), {"language": "en"})
        assert response.status_code == 302
        assert response.url == url("manage_version", statement, "en")
        page = client.get(response.url).content.decode()
        assert 'dir="ltr"' in field_tag(page, "title") and 'lang="en"' in field_tag(page, "body")
        data = version_data(title="The shore belongs to everyone", body="Keep it open.")
        assert client.post(response.url, data).status_code == 302
        assert statement.versions.get(language="en").title == "The shore belongs to everyone"

    def test_a_published_version_is_edited_and_its_page_says_the_text_changed(
        self, client: Client, org_a: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a, publish=True)
        Statement.objects.filter(pk=statement.pk).update(
            published_at=timezone.now() - dt.timedelta(hours=2)
        )
        organizer_client = organizer.client()
        edit = organizer_client.get(url("manage_version", statement, "ar")).content.decode()
        assert "اللجنة التنفيذية" in field_tag(edit, "issuing_body")  # the saved values
        data = version_data(body="نص مصحح.")
        assert (
            organizer_client.post(url("manage_version", statement, "ar"), data).status_code == 302
        )
        page = client.get(f"/o/org-a/statements/{statement.slug}/ar/").content.decode()
        assert "نص مصحح." in page and "statement-edited" in page

    @pytest.mark.parametrize(
        ("query", "data", "errors"),
        [
            ("?language=ar", {"title": "  "}, "title"),
            ("?language=ar", {"body": ""}, "body"),
            ("?language=ar", {"dated": "2026-13-45"}, "dated"),
            ("?language=ar", {"dated": "next week"}, "dated"),
            ("?language=ar", {"title": "T" * 201}, "title"),
        ],
    )
    def test_bad_input_is_a_form_error_and_nothing_is_saved(
        self, organizer: Any, query: str, data: dict[str, str], errors: str
    ) -> None:
        response = organizer.client().post(url("manage_new") + query, version_data(**data))
        assert response.status_code == 400
        assert errors in response.context["form"].errors
        assert not Statement.objects.exists()

    def test_an_unknown_language_is_refused(self, org_a: Any, organizer: Any) -> None:
        client = organizer.client()
        response = client.post(url("manage_new") + "?language=xx", version_data())
        assert response.status_code == 400 and 'role="alert"' in response.content.decode()
        assert client.get(url("manage_new") + "?language=de").status_code == 400
        statement = make_statement(org_a, languages=("ar", "en", "fr"))
        assert (
            client.get(url("manage_version_add", statement), {"language": "xx"}).status_code == 400
        )
        assert (
            client.get(url("manage_version_add", statement), {"language": "en"}).status_code == 400
        )
        assert client.get(url("manage_version", statement, "xx")).status_code == 404
        assert (
            client.post(url("manage_version", statement, "de"), version_data()).status_code == 404
        )
        assert not Statement.objects.exclude(pk=statement.pk).exists()

    def test_editing_keeps_what_was_saved_when_the_form_is_wrong(
        self, org_a: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a)
        response = organizer.client().post(
            url("manage_version", statement, "en"), version_data(title="")
        )
        assert response.status_code == 400
        assert statement.versions.get(language="en").title == "The shore belongs to everyone"

    @pytest.mark.usefixtures("english")
    def test_the_last_version_cannot_be_removed(self, org_a: Any, organizer: Any) -> None:
        statement = make_statement(org_a)
        client = organizer.client()
        assert client.post(url("manage_version_remove", statement, "en")).status_code == 302
        response = client.post(url("manage_version_remove", statement, "ar"), follow=True)
        said = [str(m) for m in response.context["messages"]]
        assert said[-1] == "A statement keeps at least one version."
        assert list(statement.versions.values_list("language", flat=True)) == ["ar"]

    def test_the_date_line_and_a_bad_date(self, org_a: Any, organizer: Any) -> None:
        statement = make_statement(org_a)
        client = organizer.client()
        page = client.get(url("manage_date_line", statement)).content.decode()
        assert 'dir="rtl"' in field_tag(page, "place_ar") and 'dir="ltr"' in field_tag(
            page, "place_en"
        )
        data = {
            "dated": "2026-12-01",
            "original_language": "en",
            "issuing_body_ar": "المكتب التنفيذي",
            "place_ar": "صيدا",
            "issuing_body_en": "Executive Office",
            "place_en": "Saida",
        }
        assert client.post(url("manage_date_line", statement), data).status_code == 302
        statement.refresh_from_db()
        assert statement.dated == dt.date(2026, 12, 1) and statement.original_language == "en"
        assert statement.versions.get(language="ar").place == "صيدا"
        bad = client.post(url("manage_date_line", statement), {**data, "dated": "2026-02-30"})
        assert bad.status_code == 400 and "dated" in bad.context["form"].errors
        wrong = client.post(url("manage_date_line", statement), {**data, "original_language": "fr"})
        assert wrong.status_code == 400
        assert Statement.objects.get(pk=statement.pk).original_language == "en"

    def test_a_draft_is_previewed_by_members_only(
        self, client: Client, org_a: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a)
        response = organizer.client().get(url("manage_preview", statement, "ar"))
        page = response.content.decode()
        assert response.status_code == 200 and '<meta name="robots" content="noindex">' in page
        assert '<article class="statement" lang="ar" dir="rtl">' in page
        assert f'href="{url("manage_preview", statement, "en")}" hreflang="en"' in page
        printed = organizer.client().get(url("manage_preview", statement, "en") + "?print=1")
        assert printed.status_code == 200 and b'<html lang="en" dir="ltr">' in printed.content
        assert client.get(url("manage_preview", statement, "ar")).status_code == 302  # sign in
        assert organizer.client().get(url("manage_preview", statement, "fr")).status_code == 404


class TestPublication:
    def test_scheduled_at_a_time_in_the_organizations_zone(
        self, org_a: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a)
        client = organizer.client()
        when = (timezone.now() + dt.timedelta(days=2)).astimezone(BEIRUT)
        local = when.strftime("%Y-%m-%dT%H:%M")
        assert (
            client.post(url("manage_schedule", statement), {"publish_at": local}).status_code == 302
        )
        statement.refresh_from_db()
        assert statement.status == StatementStatus.SCHEDULED
        assert statement.publish_at == when.replace(second=0, microsecond=0)
        assert client.post(url("manage_unschedule", statement)).status_code == 302
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.DRAFT

    @pytest.mark.parametrize("typed", ["yesterday", "2026-02-30T10:00", "2020-01-01T10:00", ""])
    def test_a_bad_or_past_time_is_a_form_error(
        self, org_a: Any, organizer: Any, typed: str
    ) -> None:
        statement = make_statement(org_a)
        response = organizer.client().post(url("manage_schedule", statement), {"publish_at": typed})
        assert response.status_code == 400
        assert "publish_at" in response.context["schedule_form"].errors
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.DRAFT

    def test_published_now_then_withdrawn_with_a_confirmation_and_a_note(
        self, org_a: Any, organizer: Any
    ) -> None:
        statement = make_statement(org_a)
        client = organizer.client()
        assert client.post(url("manage_publish", statement)).status_code == 302
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.PUBLISHED
        confirm = client.get(url("manage_withdraw", statement)).content.decode()
        assert 'name="confirm" value="1"' in confirm
        assert 'dir="rtl"' in field_tag(confirm, "note_ar")
        empty = client.post(url("manage_withdraw", statement), {"confirm": "1", "note_ar": " "})
        assert empty.status_code == 400
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.PUBLISHED
        done = client.post(url("manage_withdraw", statement), {"confirm": "1", "note_en": "Old."})
        assert done.status_code == 302
        statement.refresh_from_db()
        assert statement.status == StatementStatus.WITHDRAWN
        assert statement.withdrawal_notes == {"en": "Old."}
        # frozen: the edit page sends back to the statement, nothing changes
        edit = client.post(url("manage_version", statement, "en"), version_data(title="New"))
        assert edit.status_code == 302
        assert statement.versions.get(language="en").title == "The shore belongs to everyone"

    def test_a_draft_is_deleted_a_published_statement_is_not(
        self, org_a: Any, organizer: Any
    ) -> None:
        draft = make_statement(org_a, slug="draft")
        published = make_statement(org_a, slug="published", publish=True)
        client = organizer.client()
        assert client.post(url("manage_delete", draft)).url == url("manage_list")
        client.post(url("manage_delete", published))
        assert list(Statement.objects.values_list("slug", flat=True)) == ["published"]


class TestWhoMayDoWhat:
    def test_a_viewer_cannot_publish_or_write(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        for role in (Role.VIEWER, Role.CHECKIN_STAFF, Role.MESSENGER):
            client = Client()
            client.force_login(MembershipFactory(organization=org_a, role=role).user)
            assert client.post(url("manage_publish", statement)).status_code == 403
            assert client.get(url("manage_list")).status_code == 403
            assert (
                client.post(url("manage_new") + "?language=en", version_data()).status_code == 403
            )
        assert Statement.objects.get().status == StatementStatus.DRAFT
        assert Statement.objects.count() == 1

    def test_a_member_of_another_organization_gets_404_everywhere(
        self, org_a: Any, outsider: Any
    ) -> None:
        statement = make_statement(org_a)
        services.invite_co_signer(
            actor="test", statement=statement, co_signer=outsider.organization
        )
        client = outsider.mfa_client()
        patterns: list[URLPattern] = [*manage.urlpatterns, *cosigning.urlpatterns]
        assert len(patterns) >= 15
        for pattern in patterns:
            kwargs: dict[str, Any] = {"slug": "org-a"}
            route = str(pattern.pattern)
            if "<int:pk>" in route:
                kwargs["pk"] = statement.pk
            if "<slug:language>" in route:
                kwargs["language"] = "en"
            target = reverse(f"statements:{pattern.name}", kwargs=kwargs)
            for method in (client.get, client.post):
                response = method(target, {"organization": str(outsider.organization.pk)})
                assert response.status_code == 404, f"{method.__name__} {target}"
        statement.refresh_from_db()
        assert statement.status == StatementStatus.DRAFT and statement.versions.count() == 2
        # its own manage pages show nothing of A's statement either
        own = client.get(url("manage_statement", statement, slug="org-b"))
        assert own.status_code == 404

    def test_the_list_by_status_with_a_constant_number_of_queries(
        self, org_a: Any, organizer: Any
    ) -> None:
        client = organizer.client()
        make_statement(org_a, slug="s0")
        client.get(url("manage_list"))  # the session's first request records it
        with CaptureQueriesContext(connection) as few:
            client.get(url("manage_list"), {"status": "draft"})
        for n in range(1, 20):
            make_statement(org_a, slug=f"s{n}", languages=("ar", "en", "fr"))
        make_statement(org_a, slug="out", publish=True)
        with CaptureQueriesContext(connection) as many:
            response = client.get(url("manage_list"), {"status": "draft"})
        assert len(many) == len(few)
        assert len(response.context["rows"]) == 20
        tabs = {tab: count for tab, _label, count in response.context["tabs"]}
        assert tabs == {"draft": 20, "scheduled": 0, "published": 1, "withdrawn": 0}
        published = client.get(url("manage_list"), {"status": "published", "page": "x"})
        assert [s.slug for s, _title, _langs in published.context["rows"]] == ["out"]
