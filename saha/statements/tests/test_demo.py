"""The demo statement: published in Arabic, English and French, loaded once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from saha.statements import demo
from saha.statements.models import Statement, StatementStatus
from saha.statements.rendering import date_line

pytestmark = pytest.mark.django_db


def test_the_demo_statement_is_published_in_three_languages_once(
    client: Client, org_a: Any, owner: Any
) -> None:
    first = demo.contribute(org_a, owner.user)
    again = demo.contribute(org_a, owner.user)
    statement = Statement.objects.get(organization=org_a)
    assert (
        first
        == again
        == {
            "statement_url": f"http://127.0.0.1:8000/o/org-a/statements/{demo.DEMO_STATEMENT_SLUG}/"
        }
    )
    assert statement.slug == demo.DEMO_STATEMENT_SLUG
    assert statement.status == StatementStatus.PUBLISHED and statement.original_language == "ar"
    assert statement.created_by == owner.user
    versions = {v.language: v for v in statement.versions.all()}
    assert sorted(versions) == ["ar", "en", "fr"]
    for version in versions.values():
        assert 3 <= len(version.body.split("\n\n")) <= 5
        assert not version.machine_translated
    assert date_line(statement, versions["en"]).endswith("— Executive Committee")
    assert date_line(statement, versions["en"]).startswith("Beirut, ")
    assert versions["ar"].issuing_body == "اللجنة التنفيذية" and versions["ar"].place == "بيروت"
    assert versions["fr"].issuing_body == "Comité exécutif" and versions["fr"].place == "Beyrouth"
    assert (
        client.get(first["statement_url"].removeprefix("http://127.0.0.1:8000")).status_code == 200
    )
