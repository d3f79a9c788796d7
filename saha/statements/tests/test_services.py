"""The statement services: versions, the date line, the statuses from draft to withdrawn,
scheduled publication by the worker, and one publication when two happen at once."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from saha.core.errors import DomainError
from saha.core.jobs import registered_periodic
from saha.core.models import AuditEntry
from saha.statements import services, tasks
from saha.statements.models import Statement, StatementStatus
from saha.statements.rendering import body_html, date_line
from saha.statements.services import VersionText
from saha.statements.tests.helpers import TEXTS, make_statement
from saha.supporters.tests.people_factories import postgres_only

pytestmark = pytest.mark.django_db


def actions(statement: Statement) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_type="statements.statement", target_id=str(statement.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def soon(minutes: int = 5) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


class TestWriting:
    def test_a_new_statement_is_a_draft_with_its_versions_the_first_the_original(
        self, org_a: Any, owner: Any
    ) -> None:
        statement = services.create_statement(
            actor=owner.user,
            organization=org_a,
            slug="shore",
            versions={"en": TEXTS["en"], "ar": TEXTS["ar"]},
        )
        assert statement.status == StatementStatus.DRAFT
        assert statement.original_language == "en"
        assert statement.created_by == owner.user
        assert sorted(statement.versions.values_list("language", flat=True)) == ["ar", "en"]
        assert actions(statement) == ["statements.statement.created"]
        assert not Statement.objects.public().exists()

    @pytest.mark.parametrize(
        ("language", "text", "code"),
        [
            ("xx", TEXTS["en"], "unknown_language"),
            ("en", VersionText(title="  ", body="Text"), "empty_title"),
            ("en", VersionText(title="Title", body="\n"), "empty_body"),
            ("en", VersionText(title="T" * 201, body="Text"), "too_long"),
        ],
    )
    def test_bad_input_is_refused_with_a_code_and_nothing_is_saved(
        self, org_a: Any, language: str, text: VersionText, code: str
    ) -> None:
        with pytest.raises(DomainError) as refused:
            services.create_statement(
                actor="test", organization=org_a, slug="x", versions={language: text}
            )
        assert refused.value.code == code
        assert not Statement.objects.exists()

    def test_a_statement_needs_a_version(self, org_a: Any) -> None:
        with pytest.raises(DomainError) as refused:
            services.create_statement(actor="test", organization=org_a, slug="x", versions={})
        assert refused.value.code == "no_version"

    def test_a_version_is_added_then_changed_each_time_audited(self, org_a: Any) -> None:
        statement = make_statement(org_a, languages=("ar",))
        before = Statement.objects.get(pk=statement.pk).modified_at
        services.save_version(actor="test", statement=statement, language="fr", text=TEXTS["fr"])
        changed = VersionText(title="Nouveau titre", body="Texte.", machine_translated=True)
        version = services.save_version(
            actor="test", statement=statement, language="fr", text=changed
        )
        assert (version.title, version.machine_translated) == ("Nouveau titre", True)
        assert statement.versions.count() == 2
        assert actions(statement)[-2:] == ["statements.version.added", "statements.version.changed"]
        assert Statement.objects.get(pk=statement.pk).modified_at > before

    def test_the_last_version_stays_and_removing_the_original_names_another(
        self, org_a: Any
    ) -> None:
        statement = make_statement(org_a, languages=("ar", "en", "fr"))
        assert statement.original_language == "ar"
        assert services.remove_version(actor="test", statement=statement, language="ar")
        assert Statement.objects.get(pk=statement.pk).original_language == "en"
        assert services.remove_version(actor="test", statement=statement, language="fr")
        assert not services.remove_version(actor="test", statement=statement, language="fr")
        with pytest.raises(DomainError) as refused:
            services.remove_version(actor="test", statement=statement, language="en")
        assert refused.value.code == "last_version"
        assert list(statement.versions.values_list("language", flat=True)) == ["en"]
        assert actions(statement).count("statements.version.removed") == 2

    def test_the_date_line_is_written_in_each_versions_language(self, org_a: Any) -> None:
        statement = make_statement(org_a, languages=("ar", "en", "fr"))
        services.set_date_line(
            actor="test",
            statement=statement,
            dated=dt.date(2026, 11, 24),
            original_language="en",
            issuing_bodies={"en": "Executive Committee", "fr": ""},
            places={"en": "Beirut", "fr": "Beyrouth"},
        )
        statement.refresh_from_db()
        versions = {v.language: v for v in statement.versions.all()}
        assert statement.original_language == "en"
        english = date_line(statement, versions["en"])
        assert english == "Beirut, 24 November 2026 — Executive Committee"
        assert date_line(statement, versions["fr"]) == "Beyrouth, le 24 novembre 2026"
        arabic = date_line(statement, versions["ar"])
        assert arabic.startswith("بيروت") and "نوفمبر" in arabic and "اللجنة التنفيذية" in arabic
        assert "statements.date_line.changed" in actions(statement)

    def test_a_draft_can_be_deleted_a_published_statement_cannot(self, org_a: Any) -> None:
        draft = make_statement(org_a, slug="draft")
        published = make_statement(org_a, slug="published", publish=True)
        assert services.delete_draft(actor="test", statement=draft)
        assert not services.delete_draft(actor="test", statement=published)
        assert list(Statement.objects.values_list("slug", flat=True)) == ["published"]
        assert not AuditEntry.objects.filter(
            action="statements.statement.deleted", target_id=str(published.pk)
        ).exists()


class TestPublication:
    def test_scheduling_needs_a_time_to_come(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        with pytest.raises(DomainError) as refused:
            services.schedule(actor="test", statement=statement, publish_at=timezone.now())
        assert refused.value.code == "not_future"
        assert services.schedule(actor="test", statement=statement, publish_at=soon())
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.SCHEDULED

    def test_the_worker_publishes_what_is_due_and_nothing_before(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        at = soon(10)
        services.schedule(actor="test", statement=statement, publish_at=at)
        assert services.publish_due(now=at - dt.timedelta(minutes=1)) == 0
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.SCHEDULED
        assert services.publish_due(now=at + dt.timedelta(seconds=1)) == 1
        assert services.publish_due(now=at + dt.timedelta(minutes=1)) == 0
        statement.refresh_from_db()
        assert statement.status == StatementStatus.PUBLISHED and statement.published_at
        entry = AuditEntry.objects.get(action="statements.statement.published")
        assert entry.actor_label == "system:worker"

    def test_the_periodic_task_runs_every_minute_and_publishes_due_statements(
        self, org_a: Any
    ) -> None:
        [job] = [j for j in registered_periodic() if j.task is tasks.publish_due_statements]
        assert job.every == dt.timedelta(minutes=1)
        statement = make_statement(org_a)
        services.schedule(actor="test", statement=statement, publish_at=soon(1))
        Statement.objects.filter(pk=statement.pk).update(publish_at=timezone.now())
        tasks.publish_due_statements.call()
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.PUBLISHED

    def test_unscheduled_it_is_a_draft_again_and_the_worker_leaves_it(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        services.schedule(actor="test", statement=statement, publish_at=soon(1))
        assert services.unschedule(actor="test", statement=statement)
        assert services.publish_due(now=soon(2)) == 0
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.DRAFT

    def test_published_twice_it_is_published_once(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        services.schedule(actor="test", statement=statement, publish_at=soon(1))
        assert services.publish(actor="test", statement=statement)
        first = Statement.objects.get(pk=statement.pk).published_at
        assert not services.publish(actor="test", statement=statement)
        assert services.publish_due(now=soon(2)) == 0
        assert Statement.objects.get(pk=statement.pk).published_at == first
        assert actions(statement).count("statements.statement.published") == 1

    def test_withdrawn_it_stays_public_with_its_notes_and_is_frozen(self, org_a: Any) -> None:
        statement = make_statement(org_a, publish=True)
        with pytest.raises(DomainError) as refused:
            services.withdraw(actor="test", statement=statement, notes={"en": "  "})
        assert refused.value.code == "note_required"
        notes = {"en": "Superseded.", "ar": "استُبدل.", "xx": "ignored"}
        assert services.withdraw(actor="test", statement=statement, notes=notes)
        assert not services.withdraw(actor="test", statement=statement, notes=notes)
        statement.refresh_from_db()
        assert statement.status == StatementStatus.WITHDRAWN and statement.withdrawn_at
        assert statement.withdrawal_notes == {"en": "Superseded.", "ar": "استُبدل."}
        assert Statement.objects.public().filter(pk=statement.pk).exists()
        for change in (
            lambda: services.save_version(
                actor="test", statement=statement, language="en", text=TEXTS["en"]
            ),
            lambda: services.remove_version(actor="test", statement=statement, language="en"),
        ):
            with pytest.raises(DomainError) as frozen:
                change()
            assert frozen.value.code == "withdrawn"
        assert not services.publish(actor="test", statement=statement)
        assert actions(statement).count("statements.statement.withdrawn") == 1

    def test_only_a_published_statement_is_withdrawn(self, org_a: Any) -> None:
        statement = make_statement(org_a)
        assert not services.withdraw(actor="test", statement=statement, notes={"en": "No."})
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.DRAFT


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_and_a_manual_publication_at_once_publish_once(org_a: Any, owner: Any) -> None:
    for round_ in range(8):
        statement = make_statement(org_a, slug=f"race-{round_}")
        services.schedule(actor="test", statement=statement, publish_at=soon(1))
        due = soon(2)
        results = _at_once(
            lambda: services.publish(actor=owner.user, statement=statement),  # noqa: B023
            lambda: services.publish_due(now=due) == 1,  # noqa: B023
        )
        assert sorted(results) == [False, True]
        assert actions(statement).count("statements.statement.published") == 1
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.PUBLISHED


def _at_once(*works: Any) -> list[Any]:
    """Each of `works` in its own thread, released together; their results."""
    barrier = threading.Barrier(len(works))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(work: Any) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


class TestRendering:
    def test_no_raw_html_no_script_links_and_no_merge_field_markup(self) -> None:
        html = str(
            body_html(
                "<script>alert(1)</script> [a](javascript:alert(1)) [b](JaVaScRiPt:x) "
                '[c](data:text/html,x) <a href="javascript:y">z</a> {{ x | <b>hi</b> }} '
                "[d](https://example.org) **bold**"
            )
        )
        assert "<script" not in html and "<b>" not in html
        # The only real link is the https one; the others are text or gone.
        assert re.findall(r"<a\s[^>]*>", html) == [
            '<a href="https://example.org" rel="nofollow noopener noreferrer">'
        ]
        assert "&lt;script&gt;" in html and "&lt;b&gt;hi&lt;/b&gt;" in html
        assert "<strong>bold</strong>" in html

    def test_an_image_is_a_link_to_it_never_fetched_by_the_reader(self) -> None:
        html = str(body_html('![The beach at dawn](https://tracker.example/p.png "t")'))
        assert "<img" not in html
        assert html == (
            '<p><a href="https://tracker.example/p.png" rel="nofollow noopener noreferrer">'
            "The beach at dawn</a></p>\n"
        )
