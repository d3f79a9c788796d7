"""Everything that changes a statement: its language versions, its date line, its
publication (now or at a set time), its withdrawal, and its co-signers.

A statement goes draft -> scheduled -> published -> withdrawn (or straight from
draft to published). Each step is a conditional UPDATE on the status, so two
presses, or a manual publication and the worker's at the same moment, change
it once and leave one audit row. A withdrawn statement is frozen: it stays
public, saying it was withdrawn, and nothing of it can be edited.

Co-signing mirrors event co-hosting: the host asks another organization; one of
that organization's admins accepts (or declines); only then is it named. It
accepts a text: when the host rewords a version (its title or its text) or removes
one, every co-signer that had accepted is asked again, and is not named meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError, PermissionDeniedError
from saha.core.markdown import xml_safe
from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Permission
from saha.statements.models import CoSigner, Statement, StatementStatus, StatementVersion
from saha.statements.rendering import known_languages

WORKER = "system:worker"
EDITABLE = (StatementStatus.DRAFT, StatementStatus.SCHEDULED, StatementStatus.PUBLISHED)
UNPUBLISHED = (StatementStatus.DRAFT, StatementStatus.SCHEDULED)
MAX_NOTE = 2000
LIMITS = {"title": 200, "issuing_body": 200, "place": 100, "summary": 300, "body": 50_000}


@dataclass(frozen=True)
class VersionText:
    """One language's text, as the organizer wrote it."""

    title: str
    body: str
    summary: str = ""
    issuing_body: str = ""
    place: str = ""
    machine_translated: bool = False

    def cleaned(self) -> VersionText:
        """Trimmed, and without the characters XML cannot hold (they would break the feeds)."""
        return VersionText(
            title=_clean(self.title),
            body=_clean(self.body),
            summary=_clean(self.summary),
            issuing_body=_clean(self.issuing_body),
            place=_clean(self.place),
            machine_translated=bool(self.machine_translated),
        )


def _clean(value: str) -> str:
    return xml_safe(value).strip()


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def check_language(language: str) -> str:
    if language not in known_languages():
        raise DomainError("unknown_language", _("This language is not offered here."))
    return language


def _checked(language: str, text: VersionText) -> VersionText:
    check_language(language)
    text = text.cleaned()
    if not text.title:
        raise DomainError("empty_title", _("Give the statement a title."))
    if not text.body:
        raise DomainError("empty_body", _("Write the text of the statement."))
    for name, limit in LIMITS.items():
        if len(getattr(text, name)) > limit:
            raise DomainError("too_long", _("A field is longer than allowed."))
    return text


def _frozen() -> DomainError:
    return Conflict("withdrawn", _("A withdrawn statement cannot be changed."))


def _locked(statement: Statement) -> Statement:
    """The statement's row, locked until the transaction ends; refused once withdrawn."""
    current = Statement.objects.select_for_update().get(pk=statement.pk)
    if current.status not in EDITABLE:
        raise _frozen()
    return current


def _touch(statement: Statement, now: dt.datetime | None = None) -> None:
    statement.modified_at = now or timezone.now()
    Statement.objects.filter(pk=statement.pk).update(modified_at=statement.modified_at)


# --- Writing ----------------------------------------------------------------------


def create_statement(
    *,
    actor: Any,
    organization: Organization,
    slug: str,
    versions: dict[str, VersionText],
    dated: dt.date | None = None,
    original_language: str | None = None,
) -> Statement:
    """A new draft with one or more language versions; the original is the first given."""
    if not versions:
        raise DomainError("no_version", _("Write the statement in at least one language."))
    checked = {language: _checked(language, text) for language, text in versions.items()}
    original = original_language or next(iter(checked))
    if original not in checked:
        raise DomainError("unknown_language", _("The original must be one of the versions."))
    with transaction.atomic():
        statement = Statement.objects.create(
            organization=organization,
            slug=slug,
            dated=dated or timezone.localdate(),
            original_language=original,
            created_by=_user(actor),
        )
        for language, text in checked.items():
            _new_version(statement, language, text)
        audit.log(actor, "statements.statement.created", statement, {"languages": [*checked]})
    return statement


def _new_version(statement: Statement, language: str, text: VersionText) -> StatementVersion:
    return StatementVersion.objects.create(
        organization_id=statement.organization_id,
        statement=statement,
        language=language,
        title=text.title,
        body=text.body,
        summary=text.summary,
        issuing_body=text.issuing_body,
        place=text.place,
        machine_translated=text.machine_translated,
    )


def save_version(
    *, actor: Any, statement: Statement, language: str, text: VersionText
) -> StatementVersion:
    """Write one language's version: a new one, or a change to the one there."""
    text = _checked(language, text)
    now = timezone.now()
    with transaction.atomic():
        _locked(statement)
        version = statement.versions.filter(language=language).first()
        if version is None:
            version = _new_version(statement, language, text)
            audit.log(actor, "statements.version.added", statement, {"language": language})
            # Co-signers would otherwise be named under a text they have not read.
            _ask_again(actor, statement, language)
        else:
            reworded = (version.title, version.body) != (text.title, text.body)
            fields = ["title", "body", "summary", "issuing_body", "place", "machine_translated"]
            for name in fields:
                setattr(version, name, getattr(text, name))
            version.modified_at = now
            version.save(update_fields=[*fields, "modified_at"])
            audit.log(actor, "statements.version.changed", statement, {"language": language})
            if reworded:
                _ask_again(actor, statement, language)
        _touch(statement, now)
    return version


def remove_version(*, actor: Any, statement: Statement, language: str) -> bool:
    """Remove one language's version, never the last; removing the original makes the
    first remaining version (in the site's order of languages) the original."""
    with transaction.atomic():
        current = _locked(statement)
        languages = set(current.versions.values_list("language", flat=True))
        if language not in languages:
            return False
        if len(languages) == 1:
            raise DomainError("last_version", _("A statement keeps at least one version."))
        current.versions.filter(language=language).delete()
        if current.original_language == language:
            remaining = languages - {language}
            ordered = [code for code in known_languages() if code in remaining]
            current.original_language = (ordered or sorted(remaining))[0]
            current.save(update_fields=["original_language"])
            statement.original_language = current.original_language
        _touch(statement)
        audit.log(actor, "statements.version.removed", statement, {"language": language})
        _ask_again(actor, statement, language)
    return True


def set_date_line(
    *,
    actor: Any,
    statement: Statement,
    dated: dt.date,
    original_language: str,
    issuing_bodies: dict[str, str],
    places: dict[str, str],
) -> None:
    """The date, the original language, and each version's issuing body and place."""
    with transaction.atomic():
        current = _locked(statement)
        versions = {v.language: v for v in current.versions.all()}
        if original_language not in versions:
            raise DomainError("unknown_language", _("The original must be one of the versions."))
        for language, version in versions.items():
            version.issuing_body = _clean(issuing_bodies.get(language, version.issuing_body))
            version.place = _clean(places.get(language, version.place))
            if len(version.issuing_body) > LIMITS["issuing_body"] or len(version.place) > 100:
                raise DomainError("too_long", _("A field is longer than allowed."))
            version.save(update_fields=["issuing_body", "place"])
        statement.dated, statement.original_language = dated, original_language
        statement.modified_at = timezone.now()
        Statement.objects.filter(pk=statement.pk).update(
            dated=dated, original_language=original_language, modified_at=statement.modified_at
        )
        audit.log(
            actor,
            "statements.date_line.changed",
            statement,
            {"dated": dated.isoformat(), "original_language": original_language},
        )


def set_image(
    *, actor: Any, statement: Statement, image: UploadedFile | None, clear: bool = False
) -> bool:
    """The picture shown in link previews: a new one, or none."""
    with transaction.atomic():
        current = _locked(statement)
        if image is not None:
            current.image = image
        elif clear and current.image:
            current.image.delete(save=False)
            current.image = ""
        else:
            return False
        current.modified_at = timezone.now()
        current.save(update_fields=["image", "modified_at"])
        statement.image, statement.modified_at = current.image, current.modified_at
        audit.log(actor, "statements.image.changed", statement, {"removed": image is None})
    return True


def delete_draft(*, actor: Any, statement: Statement) -> bool:
    """A statement nobody has seen goes away; a published one can only be withdrawn."""
    with transaction.atomic():
        audit.log(actor, "statements.statement.deleted", statement, {"slug": statement.slug})
        deleted, _kinds = Statement.objects.filter(pk=statement.pk, status__in=UNPUBLISHED).delete()
        if not deleted:
            transaction.set_rollback(True)
    return bool(deleted)


# --- Publication --------------------------------------------------------------------


def schedule(*, actor: Any, statement: Statement, publish_at: dt.datetime) -> bool:
    """Publish at `publish_at` (the worker looks every minute); a new time replaces the old."""
    if publish_at <= timezone.now():
        raise DomainError("not_future", _("Choose a time in the future."))
    with transaction.atomic():
        changed = Statement.objects.filter(pk=statement.pk, status__in=UNPUBLISHED).update(
            status=StatementStatus.SCHEDULED, publish_at=publish_at, modified_at=timezone.now()
        )
        if changed:
            statement.status, statement.publish_at = StatementStatus.SCHEDULED, publish_at
            audit.log(
                actor, "statements.statement.scheduled", statement, {"at": publish_at.isoformat()}
            )
    return bool(changed)


def unschedule(*, actor: Any, statement: Statement) -> bool:
    """Back to a draft: it will not be published at the time set."""
    with transaction.atomic():
        changed = Statement.objects.filter(
            pk=statement.pk, status=StatementStatus.SCHEDULED
        ).update(status=StatementStatus.DRAFT, publish_at=None, modified_at=timezone.now())
        if changed:
            statement.status, statement.publish_at = StatementStatus.DRAFT, None
            audit.log(actor, "statements.statement.unscheduled", statement)
    return bool(changed)


def publish(*, actor: Any, statement: Statement) -> bool:
    """Publish now. The UPDATE's condition on the status is the claim: pressed twice, or
    at the moment the worker publishes it as scheduled, it is published once."""
    return _publish(actor, statement.pk, status__in=UNPUBLISHED) is not None


def publish_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Publish the scheduled statements whose time has come (the worker, every minute)."""
    now = now or timezone.now()
    due = list(Statement.objects.due(now).order_by("publish_at").values_list("pk", flat=True))
    published = 0
    for pk in due[:limit]:
        if _publish(WORKER, pk, status=StatementStatus.SCHEDULED, publish_at__lte=now):
            published += 1
    return published


def _publish(actor: Any, pk: int, **condition: Any) -> Statement | None:
    now = timezone.now()
    with transaction.atomic():
        changed = Statement.objects.filter(pk=pk, **condition).update(
            status=StatementStatus.PUBLISHED, published_at=now, modified_at=now
        )
        if not changed:
            return None
        statement = Statement.objects.select_related("organization").get(pk=pk)
        audit.log(actor, "statements.statement.published", statement)
    return statement


def withdraw(*, actor: Any, statement: Statement, notes: dict[str, str]) -> bool:
    """Withdraw a published statement: it stays public, saying so, with the note (one per
    language) above its text."""
    cleaned = {
        language: _clean(note)[:MAX_NOTE]
        for language, note in notes.items()
        if language in known_languages() and _clean(note)
    }
    if not cleaned:
        raise DomainError("note_required", _("Say why the statement is withdrawn."))
    now = timezone.now()
    with transaction.atomic():
        changed = Statement.objects.filter(
            pk=statement.pk, status=StatementStatus.PUBLISHED
        ).update(
            status=StatementStatus.WITHDRAWN,
            withdrawn_at=now,
            withdrawal_notes=cleaned,
            modified_at=now,
        )
        if changed:
            statement.status, statement.withdrawn_at = StatementStatus.WITHDRAWN, now
            statement.withdrawal_notes = cleaned
            audit.log(actor, "statements.statement.withdrawn", statement, {"languages": [*cleaned]})
    return bool(changed)


# --- Co-signers ---------------------------------------------------------------------


def invite_co_signer(*, actor: Any, statement: Statement, co_signer: Organization) -> bool:
    """Ask another organization to co-sign: it is named only once one of its admins accepts."""
    if co_signer.pk == statement.organization_id:
        raise DomainError("own_statement", _("An organization cannot co-sign its own statement."))
    with transaction.atomic():
        _locked(statement)
        _link, created = CoSigner.objects.get_or_create(
            statement=statement,
            co_signer=co_signer,
            organization_id=statement.organization_id,
            defaults={"invited_by": _user(actor)},
        )
        if created:
            audit.log(
                actor, "statements.co_signer.invited", statement, {"organization": co_signer.slug}
            )
    return created


def _check_admin(actor: Any, organization: Organization) -> None:
    """A person answers for an organization only as one of its admins (work nobody
    clicked, such as the command line, passes a label instead of a user)."""
    if isinstance(actor, str) or actor is None:
        return
    membership = Membership.objects.filter(organization=organization, user=actor).first()
    if membership is None or not membership.can(Permission.MANAGE_ORGANIZATION):
        raise PermissionDeniedError(
            "not_admin", _("Only an admin of the organization can answer for it.")
        )


def accept_co_signing(*, actor: Any, statement: Statement, co_signer: Organization) -> bool:
    """The co-signer's admin says yes: from now on it is named on the statement."""
    _check_admin(actor, co_signer)
    with transaction.atomic():
        _locked(statement)
        accepted = CoSigner.objects.filter(
            statement=statement, co_signer=co_signer, accepted_at__isnull=True
        ).update(accepted_at=timezone.now(), accepted_by=_user(actor))
        if accepted:
            _touch(statement)
            _log_both(actor, "statements.co_signer.accepted", statement, co_signer)
    return bool(accepted)


def _ask_again(actor: Any, statement: Statement, language: str) -> int:
    """The text the co-signers accepted has changed: they are no longer named until
    they accept it again (their invitation is open once more). Run under the
    statement's lock, which accepting takes too."""
    links = list(
        CoSigner.objects.filter(statement=statement, accepted_at__isnull=False)
        .select_related("co_signer")
        .order_by("pk")
    )
    if links:
        CoSigner.objects.filter(pk__in=[link.pk for link in links]).update(
            accepted_at=None, accepted_by=None
        )
    for link in links:
        _log_both(
            actor, "statements.co_signer.asked_again", statement, link.co_signer, language=language
        )
    return len(links)


def remove_co_signer(*, actor: Any, statement: Statement, co_signer: Organization) -> bool:
    """The host removes a co-signer, or the co-signer declines or takes its name back."""
    with transaction.atomic():
        _locked(statement)
        removed, _kinds = CoSigner.objects.filter(statement=statement, co_signer=co_signer).delete()
        if removed:
            _touch(statement)
            _log_both(actor, "statements.co_signer.removed", statement, co_signer)
    return bool(removed)


def _log_both(
    actor: Any, action: str, statement: Statement, co_signer: Organization, **extra: str
) -> None:
    data = {"organization": co_signer.slug, "host": statement.organization.slug, **extra}
    audit.log(actor, action, statement, data)
    audit.log(actor, action, statement, data, organization=co_signer)
