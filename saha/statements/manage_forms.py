"""The organizer's forms: one language version (its fields written in that language's
direction), the date line, the picture, the time of publication, the withdrawal
note, and the organization asked to co-sign."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.events.manage_forms import LocalDateTimeField, in_zone
from saha.organizations.forms import MAX_LOGO_BYTES
from saha.organizations.models import Organization
from saha.statements.models import Statement
from saha.statements.rendering import direction, known_languages, own_name
from saha.statements.services import LIMITS, MAX_NOTE, VersionText


def written_in(language: str) -> dict[str, str]:
    """A field's text is in `language`: Arabic right to left, whatever the page's language."""
    return {"lang": language, "dir": direction(language)}


def language_choices(languages: list[str] | None = None) -> list[tuple[str, str]]:
    codes = known_languages() if languages is None else languages
    return [(code, own_name(code)) for code in codes]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class VersionForm(forms.Form):
    """One language's version: every text field carries that language and direction."""

    title = forms.CharField(label=_("Title"), max_length=LIMITS["title"])
    summary = forms.CharField(
        label=_("Summary"),
        max_length=LIMITS["summary"],
        required=False,
        help_text=_("One or two sentences, shown in lists, link previews and feeds."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=LIMITS["body"],
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Markdown: a blank line between paragraphs, **bold**, *italic*, [link](https://…)."
        ),
    )
    issuing_body = forms.CharField(
        label=_("Issued by"),
        max_length=LIMITS["issuing_body"],
        required=False,
        help_text=_("The body that issues it, as in the date line: “Executive Committee”."),
    )
    place = forms.CharField(label=_("Place"), max_length=LIMITS["place"], required=False)
    machine_translated = forms.BooleanField(
        label=_("This version is a machine translation"),
        required=False,
        help_text=_("Readers are told, and offered the original."),
    )

    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = language
        for name in ("title", "summary", "body", "issuing_body", "place"):
            self.fields[name].widget.attrs.update(written_in(language))

    @staticmethod
    def initial_for(version: Any) -> dict[str, Any]:
        if version is None:
            return {}
        names = ("title", "summary", "body", "issuing_body", "place", "machine_translated")
        return {name: getattr(version, name) for name in names}

    def text(self) -> VersionText:
        data = self.cleaned_data
        return VersionText(
            title=data["title"],
            body=data["body"],
            summary=data.get("summary", ""),
            issuing_body=data.get("issuing_body", ""),
            place=data.get("place", ""),
            machine_translated=bool(data.get("machine_translated")),
        )


class NewStatementForm(VersionForm):
    """The first version, and the statement's date."""

    dated = forms.DateField(
        label=_("Date"), widget=DateInput(), help_text=_("The day it is issued, in the date line.")
    )


class AddVersionForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"))

    def __init__(self, *args: Any, statement: Statement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        present = {version.language for version in statement.versions.all()}
        missing = [code for code in known_languages() if code not in present]
        self.fields["language"].choices = language_choices(missing)  # type: ignore[attr-defined]


class DateLineForm(forms.Form):
    """The date, which version is the original, each version's issuing body and place,
    and the picture for link previews."""

    dated = forms.DateField(label=_("Date"), widget=DateInput())
    original_language = forms.ChoiceField(
        label=_("Original language"),
        help_text=_("Shown to readers whose language has no version."),
    )
    image = forms.ImageField(
        label=_("Picture for link previews"),
        required=False,
        help_text=_("A wide PNG or JPEG (1200 × 630 suits most apps), smaller than 2 MB."),
    )
    clear_image = forms.BooleanField(label=_("Remove the picture"), required=False)

    def __init__(self, *args: Any, statement: Statement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = [v.language for v in statement.versions.all()]
        self.fields["original_language"].choices = language_choices(self.languages)  # type: ignore[attr-defined]
        for code in self.languages:
            name = own_name(code)
            self.fields[f"issuing_body_{code}"] = forms.CharField(
                label=_("Issued by (%(language)s)") % {"language": name},
                max_length=LIMITS["issuing_body"],
                required=False,
                widget=forms.TextInput(attrs=written_in(code)),
            )
            self.fields[f"place_{code}"] = forms.CharField(
                label=_("Place (%(language)s)") % {"language": name},
                max_length=LIMITS["place"],
                required=False,
                widget=forms.TextInput(attrs=written_in(code)),
            )
        self.order_fields(["dated", "original_language"])

    @staticmethod
    def initial_for(statement: Statement) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "dated": statement.dated,
            "original_language": statement.original_language,
        }
        for version in statement.versions.all():
            initial[f"issuing_body_{version.language}"] = version.issuing_body
            initial[f"place_{version.language}"] = version.place
        return initial

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if image and image.size > MAX_LOGO_BYTES:
            raise forms.ValidationError(_("The picture must be smaller than 2 MB."))
        return image

    def per_version(self, prefix: str) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"{prefix}_{code}", "") for code in self.languages}


class ScheduleForm(forms.Form):
    publish_at = LocalDateTimeField(
        label=_("Publish at"), help_text=_("In the organization's time zone.")
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone

    def clean_publish_at(self) -> dt.datetime:
        moment = in_zone(self.cleaned_data["publish_at"], self.time_zone)
        if moment <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."), code="not_future")
        return moment


class WithdrawForm(forms.Form):
    """Why it is withdrawn, one note per version's language, at least one."""

    def __init__(self, *args: Any, statement: Statement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = [v.language for v in statement.versions.all()]
        for code in self.languages:
            self.fields[f"note_{code}"] = forms.CharField(
                label=_("Why it is withdrawn (%(language)s)") % {"language": own_name(code)},
                max_length=MAX_NOTE,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3, **written_in(code)}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(f"note_{code}", "").strip() for code in self.languages):
            raise forms.ValidationError(
                _("Say why the statement is withdrawn, in at least one language.")
            )
        return data

    def notes(self) -> dict[str, str]:
        return {
            code: self.cleaned_data[f"note_{code}"].strip()
            for code in self.languages
            if self.cleaned_data.get(f"note_{code}", "").strip()
        }


class CoSignerForm(forms.Form):
    organization = forms.CharField(
        label=_("Web address of the organization asked to co-sign"),
        max_length=200,
        help_text=_("Its short name, as in /o/<web address>/, or the whole address of its page."),
    )

    def __init__(self, *args: Any, statement: Statement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statement = statement

    def clean_organization(self) -> Organization:
        slug = slug_from(self.cleaned_data["organization"])
        found = Organization.objects.filter(slug=slug).first() if slug else None
        if found is None:
            raise forms.ValidationError(_("No organization has this web address."))
        if found.pk == self.statement.organization_id:
            raise forms.ValidationError(_("An organization cannot co-sign its own statement."))
        return found


def slug_from(typed: str) -> str:
    """ "green-coast", "/o/green-coast/" or "https://saha.example/o/green-coast/statements/"."""
    try:
        path = urlsplit(typed.strip()).path if "://" in typed else typed.strip()
    except ValueError:  # "https://[x/o/abc/": not an address, so no organization's
        return ""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "o":
        return parts[1].lower()
    return parts[0].lower() if len(parts) == 1 else ""
