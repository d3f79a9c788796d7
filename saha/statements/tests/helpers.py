"""Statements for tests: texts in Arabic, English and French, and a maker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from saha.statements import services
from saha.statements.models import Statement
from saha.statements.services import VersionText

TEXTS = {
    "ar": VersionText(
        title="الشاطئ للجميع",
        body="نطالب بإبقاء الشاطئ مفتوحًا.\n\nوندعو الجميع إلى التنظيف.",
        summary="الشاطئ ملك عام.",
        issuing_body="اللجنة التنفيذية",
        place="بيروت",
    ),
    "en": VersionText(
        title="The shore belongs to everyone",
        body="We ask that the beach stay open.\n\nWe invite everyone to clean it.",
        summary="The beach is a common good.",
        issuing_body="Executive Committee",
        place="Beirut",
    ),
    "fr": VersionText(
        title="Le rivage appartient à tous",
        body="Nous demandons que la plage reste ouverte.",
        issuing_body="Comité exécutif",
        place="Beyrouth",
    ),
}


def make_statement(
    organization: Any,
    *,
    slug: str = "shore",
    languages: tuple[str, ...] = ("ar", "en"),
    publish: bool = False,
    dated: dt.date = dt.date(2026, 11, 24),
    **texts: VersionText,
) -> Statement:
    versions = {language: texts.get(language, TEXTS[language]) for language in languages}
    statement = services.create_statement(
        actor="test", organization=organization, slug=slug, versions=versions, dated=dated
    )
    if publish:
        services.publish(actor="test", statement=statement)
        statement.refresh_from_db()
    return statement
